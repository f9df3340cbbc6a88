import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeObjectStoreContract } from './object-store.contract.ts';
import { createLocalObjectStore } from './local.ts';

describeObjectStoreContract('local folder (embedded)', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'object-store-contract-'));
  return { store: createLocalObjectStore({ rootDir }), cleanup: () => rm(rootDir, { recursive: true, force: true }) };
});
