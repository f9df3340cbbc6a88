// Installs the workspace when node_modules is missing or older than the lockfile, so that
// `npm start` and `npm test` work on a fresh clone with only Node and git. pnpm comes from
// the npm registry through npx (corepack's signature check fails on these machines).
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.modules.yaml');
const lockfile = join(root, 'pnpm-lock.yaml');
const fresh = existsSync(marker) && statSync(marker).mtimeMs >= statSync(lockfile).mtimeMs;
if (!fresh) {
  console.log('Installing the workspace (first run)...');
  const pnpm = spawnSync('npx', ['--yes', 'pnpm@10.34.9', 'install', '--frozen-lockfile'], {
    cwd: root,
    stdio: 'inherit',
    shell: false,
  });
  if (pnpm.status !== 0) {
    console.error('Installing the workspace failed; see the output above.');
    process.exit(pnpm.status ?? 1);
  }
}
