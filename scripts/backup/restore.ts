/**
 * `npm run restore -- <backup folder> [--force]`: puts a backup from `npm run backup` back,
 * into DATA_DIR (a fresh one with PGlite) or the database DATABASE_URL names (the dump drops
 * and recreates each table, so an existing platform database is replaced). The platform
 * must be stopped. Secrets already in DATA_DIR that differ from the backup's are kept
 * unless `--force` (overwriting them would make the current env vars unreadable).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPgliteDataDir } from '@platform/db';
import { argument, type BackupManifest, config, localObjectsDir, MANIFEST, PGLITE_ARCHIVE, runPgTool, secretsDir, SQL_DUMP } from './common.ts';

const { target: source, force } = argument('usage: npm run restore -- <backup folder> [--force]');
const manifestFile = join(source, MANIFEST);
if (!existsSync(manifestFile)) {
  console.error(`${source} holds no ${MANIFEST}: not a backup from npm run backup`);
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
const c = config();
const db = c.drivers.db;
if (manifest.database !== db.driver) {
  console.error(
    `the backup holds a ${manifest.database} database, but the settings name ${db.driver} (${db.driver === 'postgres' ? 'DATABASE_URL is set' : 'DATABASE_URL is unset'})`,
  );
  process.exit(2);
}

mkdirSync(c.dataDir, { recursive: true, mode: 0o700 });
restoreSecrets();
if (db.driver === 'pglite') {
  console.log(`metadata: into ${db.dataDir}`);
  await loadPgliteDataDir(db.dataDir, readFileSync(join(source, PGLITE_ARCHIVE)));
} else {
  console.log('metadata: psql into DATABASE_URL');
  runPgTool('psql', db.url, ['--quiet', '--set', 'ON_ERROR_STOP=1', '--file', join(source, SQL_DUMP)]);
}
const objectsDir = localObjectsDir(c);
if (manifest.objects && objectsDir) {
  console.log(`objects: into ${objectsDir}`);
  cpSync(join(source, 'objects'), objectsDir, { recursive: true, force: true });
}
console.log('restored; start the platform');

function restoreSecrets(): void {
  if (!manifest.secrets) return;
  const into = secretsDir(c);
  mkdirSync(into, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(join(source, 'secrets'))) {
    const from = join(source, 'secrets', name);
    const to = join(into, name);
    if (existsSync(to) && readFileSync(to, 'utf8') !== readFileSync(from, 'utf8') && !force) {
      console.error(`${to} differs from the backup's; keeping it (pass --force to replace it)`);
      process.exit(2);
    }
    cpSync(from, to);
  }
}
