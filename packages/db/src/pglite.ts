import { PGlite } from '@electric-sql/pglite';
import type { Db, DbExecutor } from './db.ts';
import { migrate } from './migrate.ts';
import { holdsDatabase, PgliteTemplate } from './pglite-template.ts';

export interface PgliteDbOptions {
  /** The data folder; in memory when absent. */
  dataDir?: string;
  /**
   * A cache folder for a migrated template (see `PgliteTemplate`): a new data folder starts
   * from it, already migrated, instead of running initdb, and the first one writes it.
   * Without it a new data folder starts empty (not migrated).
   */
  templateCacheDir?: string;
}

/**
 * The embedded driver: PostgreSQL compiled to WebAssembly, in process, with a data folder
 * (or in memory when `dataDir` is absent). PGlite runs one statement at a time, so calls queue.
 */
export async function createPgliteDb(options: PgliteDbOptions = {}): Promise<Db> {
  const { pg, writeTemplate } = await openPglite(options);
  const executor = (q: Pick<PGlite, 'query'>): DbExecutor => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(sql, params as unknown[]);
      return result.rows;
    },
  });
  const db: Db = {
    ...executor(pg),
    transaction: (fn) => pg.transaction((tx) => fn(executor(tx))),
    close: () => pg.close(),
  };
  if (writeTemplate) {
    // The first new data folder since the migrations changed: migrated now, kept as the template.
    await migrate(db);
    // A template that cannot be written (read-only cache) only costs the next start its speed.
    await writeTemplate.save(await pg.dumpDataDir('none')).catch(() => {});
  }
  return db;
}

async function openPglite(options: PgliteDbOptions): Promise<{ pg: PGlite; writeTemplate?: PgliteTemplate }> {
  const { dataDir, templateCacheDir } = options;
  if (!dataDir) return { pg: await PGlite.create() };
  if (!templateCacheDir || holdsDatabase(dataDir)) return { pg: await PGlite.create(dataDir) };
  const template = new PgliteTemplate(templateCacheDir);
  const tar = await template.load();
  if (tar) return { pg: await PGlite.create({ dataDir, loadDataDir: tar }) };
  return { pg: await PGlite.create(dataDir), writeTemplate: template };
}
