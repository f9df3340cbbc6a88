import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouse } from './client.ts';
import { describeLogStoreContract } from './log-store.contract.ts';

// The ClickHouse engine in process (chDB binds one data folder per process: one per test file).
describeLogStoreContract('chDB (embedded)', async () =>
  createClickHouse({ driver: 'chdb', path: join(mkdtempSync(join(tmpdir(), 'chdb-contract-')), 'chdb') }),
);
