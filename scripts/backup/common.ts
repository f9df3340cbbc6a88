/**
 * What `npm run backup` and `npm run restore` share: the backup folder's layout, and how
 * the PostgreSQL client tools are called (argument arrays; the password in the environment,
 * never on a command line another user could read in `ps`).
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { loadApiConfig, type ApiConfig } from '@platform/api-server';

export const MANIFEST = 'backup.json';
export const PGLITE_ARCHIVE = 'metadata.pglite.tar.gz';
export const SQL_DUMP = 'metadata.sql';

/** `backup.json`: what the folder holds. */
export interface BackupManifest {
  format: 1;
  createdAt: string;
  database: 'pglite' | 'postgres';
  /** The local object store's files (embedded mode) are in `objects/`. */
  objects: boolean;
  /** `DATA_DIR/secrets` (token signing key, encryption key of env vars) is in `secrets/`. */
  secrets: boolean;
}

export function config(): ApiConfig {
  return loadApiConfig({ LOG_LEVEL: 'warn', ...process.env });
}

/** The local object store's folder when it lies in DATA_DIR (the embedded default), else null. */
export function localObjectsDir(c: ApiConfig): string | null {
  const storage = c.drivers.storage;
  return storage.driver === 'local' && resolve(storage.dir).startsWith(c.dataDir) ? resolve(storage.dir) : null;
}

export const secretsDir = (c: ApiConfig): string => join(c.dataDir, 'secrets');

/** Runs pg_dump or psql on `url`: the password goes in PGPASSWORD, the URL without it on the command line. */
export function runPgTool(tool: 'pg_dump' | 'psql', url: string, args: readonly string[]): void {
  // The PostgreSQL client, installed where it is missing (as scripts/infra does for the server).
  execFileSync('bash', [join(import.meta.dirname, '..', 'ensure-apt.sh'), `${tool}=postgresql-client`], { stdio: 'inherit' });
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  execFileSync(tool, [...args, '--dbname', parsed.toString()], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(password ? { PGPASSWORD: password } : {}) },
  });
}

export function argument(usage: string): { target: string; force: boolean; withoutObjects: boolean } {
  const args = process.argv.slice(2);
  const target = args.find((a) => !a.startsWith('--'));
  if (!target) {
    console.error(usage);
    process.exit(2);
  }
  return { target: resolve(target), force: args.includes('--force'), withoutObjects: args.includes('--no-objects') };
}
