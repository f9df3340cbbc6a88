/**
 * `npm run backup -- <folder> [--no-objects]`: a backup of the platform's metadata (users,
 * tokens, projects, deployments, env vars, hooks...) into a new folder: PGlite's data folder
 * as a tarball, or a `pg_dump` of DATABASE_URL; the secrets DATA_DIR keeps (without the env
 * var encryption key the restored env vars could not be read); in embedded mode also the
 * local object store (deployment files, routes, caches). Build logs (ClickHouse) are not
 * included. With PGlite, stop the platform first (PGlite allows one process at a time); with
 * PostgreSQL it may keep running (pg_dump reads one consistent snapshot).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpPgliteDataDir } from '@platform/db';
import { argument, type BackupManifest, config, localObjectsDir, MANIFEST, PGLITE_ARCHIVE, runPgTool, secretsDir, SQL_DUMP } from './common.ts';

const { target, withoutObjects } = argument('usage: npm run backup -- <new folder> [--no-objects]');
const c = config();
if (existsSync(target) && readdirSync(target).length > 0) {
  console.error(`${target} exists and is not empty: give a new folder`);
  process.exit(2);
}
mkdirSync(target, { recursive: true, mode: 0o700 });

const db = c.drivers.db;
if (db.driver === 'pglite') {
  console.log(`metadata: PGlite data folder ${db.dataDir}`);
  writeFileSync(join(target, PGLITE_ARCHIVE), await dumpPgliteDataDir(db.dataDir), { mode: 0o600 });
} else {
  console.log('metadata: pg_dump of DATABASE_URL');
  runPgTool('pg_dump', db.url, ['--no-owner', '--no-privileges', '--clean', '--if-exists', '--format=plain', '--file', join(target, SQL_DUMP)]);
}

const secrets = existsSync(secretsDir(c));
if (secrets) cpSync(secretsDir(c), join(target, 'secrets'), { recursive: true });

const objectsDir = localObjectsDir(c);
const objects = !withoutObjects && objectsDir !== null && existsSync(objectsDir);
if (objects) {
  console.log(`objects: ${objectsDir}`);
  cpSync(objectsDir!, join(target, 'objects'), { recursive: true, filter: (src) => !src.endsWith('.tmp') });
}

const manifest: BackupManifest = { format: 1, createdAt: new Date().toISOString(), database: db.driver, objects, secrets };
writeFileSync(join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
console.log(`backup written to ${target}${secrets ? ' (it holds the platform’s secrets: keep it private)' : ''}`);
