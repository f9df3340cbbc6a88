import { existsSync, readdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';

/**
 * The whole PGlite data folder as one gzipped tarball (PGlite's own dump format). The
 * folder must not be open in another process: PGlite has no lock, so stop the platform first.
 */
export async function dumpPgliteDataDir(dataDir: string): Promise<Buffer> {
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) throw new Error(`no PGlite data folder at ${dataDir}`);
  const pg = await PGlite.create(dataDir);
  try {
    const archive = await pg.dumpDataDir('gzip');
    return Buffer.from(await archive.arrayBuffer());
  } finally {
    await pg.close();
  }
}

/** Recreates a PGlite data folder from `dumpPgliteDataDir`'s tarball; the folder must be new or empty. */
export async function loadPgliteDataDir(dataDir: string, archive: Buffer): Promise<void> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0)
    throw new Error(`${dataDir} is not empty: restore into a fresh data folder (or move this one away)`);
  const pg = await PGlite.create({ dataDir, loadDataDir: new Blob([new Uint8Array(archive)]) });
  // A first query proves the restored cluster opens.
  await pg.query('SELECT 1');
  await pg.close();
}
