import { PGlite } from '@electric-sql/pglite';
import type { Db, DbExecutor } from './db.ts';

/**
 * The embedded driver: PostgreSQL compiled to WebAssembly, in process, with a data folder
 * (or in memory when `dataDir` is absent). PGlite runs one statement at a time, so calls queue.
 */
export async function createPgliteDb(options: { dataDir?: string } = {}): Promise<Db> {
  const pg = options.dataDir ? await PGlite.create(options.dataDir) : await PGlite.create();
  const executor = (q: Pick<PGlite, 'query'>): DbExecutor => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(sql, params as unknown[]);
      return result.rows;
    },
  });
  return {
    ...executor(pg),
    transaction: (fn) => pg.transaction((tx) => fn(executor(tx))),
    close: () => pg.close(),
  };
}
