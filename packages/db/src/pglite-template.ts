import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MIGRATIONS_DIR, migrationFiles } from './migrate.ts';

const require = createRequire(import.meta.url);

/**
 * A migrated, empty PGlite data folder, kept as a tar in a cache folder, to start new data
 * folders from. PGlite's initdb runs PostgreSQL's bootstrap in WebAssembly and is the slowest
 * part of a first start (seconds; unpacking this tar is a fraction of it), and every test
 * platform starts from an empty data folder. The name carries a hash of the PGlite version and
 * of every migration file, so a template never holds a schema the code does not expect; older
 * ones are removed when a new one is written. It holds a schema only, never data.
 */
export class PgliteTemplate {
  constructor(private readonly cacheDir: string) {}

  /** The template's bytes for the current PGlite and migrations, or null when none was written yet. */
  async load(): Promise<Blob | null> {
    const file = await this.file();
    try {
      return new Blob([await readFile(file)]);
    } catch {
      return null;
    }
  }

  /** Writes the template atomically (another process may be writing the same one) and prunes older ones. */
  async save(dump: Blob): Promise<void> {
    const file = await this.file();
    await mkdir(this.cacheDir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    await rename(tmp, file);
    for (const name of await readdir(this.cacheDir)) {
      if (/^pglite-[0-9a-f]+\.tar$/.test(name) && join(this.cacheDir, name) !== file) await rm(join(this.cacheDir, name), { force: true });
    }
  }

  private key: Promise<string> | undefined;

  private async file(): Promise<string> {
    this.key ??= (async () => {
      const hash = createHash('sha256').update(pgliteVersion());
      for (const name of await migrationFiles()) hash.update(`\0${name}\0`).update(await readFile(MIGRATIONS_DIR + name));
      return hash.digest('hex').slice(0, 16);
    })();
    return join(this.cacheDir, `pglite-${await this.key}.tar`);
  }
}

/** PGlite's version, from its package.json (not in its exports: found by walking up from its entry). */
function pgliteVersion(): string {
  for (let dir = dirname(require.resolve('@electric-sql/pglite')); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
  }
  throw new Error('cannot find the version of @electric-sql/pglite');
}

/** True when `dataDir` already holds a database (PostgreSQL writes PG_VERSION at initdb). */
export function holdsDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}
