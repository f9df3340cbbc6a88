export type { Db, DbExecutor } from './db.ts';
export { migrate } from './migrate.ts';
export { createPgliteDb } from './pglite.ts';
export { createPostgresDb, type PostgresDbOptions } from './pg.ts';
export { dumpPgliteDataDir, loadPgliteDataDir } from './pglite-backup.ts';
