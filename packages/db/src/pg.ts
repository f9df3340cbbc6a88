import pg from 'pg';
import type { Db, DbExecutor } from './db.ts';

export interface PostgresDbOptions {
  /** `postgres://user:password@host:5432/database?sslmode=require` */
  connectionString: string;
  /** Most connections the pool opens. Default 10. */
  maxConnections?: number;
  /** Application name shown in `pg_stat_activity`. */
  applicationName?: string;
  /** An idle pooled connection broke (server restart, network). The pool replaces it on the next query. */
  onIdleError?: (err: Error) => void;
}

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;

/**
 * Rows must look the same as PGlite's, or code above `Db` would depend on the driver:
 * PGlite returns `bigint` columns (and `count(*)`) as numbers while they fit, node-postgres
 * returns strings. Per pool, so no other pg user in the process is affected.
 */
const defaultParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
const parseInt8Array = (value: string) => (defaultParser(INT8_ARRAY_OID, 'text')(value) as (string | null)[]).map((v) => (v === null ? null : parseInt8(v)));
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary' && oid === INT8_OID) return parseInt8;
    if (format !== 'binary' && oid === INT8_ARRAY_OID) return parseInt8Array;
    return defaultParser(oid, format);
  },
} as pg.CustomTypesConfig;

function parseInt8(value: string): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value);
}

/**
 * The production driver: PostgreSQL through a `pg` connection pool. Statements outside a
 * transaction take any pooled connection; a transaction holds one connection from BEGIN
 * to COMMIT/ROLLBACK and every statement of `fn` runs on it.
 */
export async function createPostgresDb(options: PostgresDbOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'platform',
    types: typeParsers,
    // Fail fast when the server is unreachable instead of hanging a request.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener an idle connection's error (e.g. the server restarted) would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err));

  // Connect once now, so a wrong URL or password stops start-up instead of the first request.
  const probe = await pool.connect();
  probe.release();

  const executor = (q: Pick<pg.Pool | pg.PoolClient, 'query'>): DbExecutor => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query(sql, params as unknown[]);
      return result.rows as Row[];
    },
  });

  let closed: Promise<void> | undefined;
  return {
    ...executor(pool),

    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(executor(client));
        const commit = await client.query('COMMIT');
        // PostgreSQL answers COMMIT of a failed transaction (fn caught a statement's error) with ROLLBACK.
        if (commit.command === 'ROLLBACK') throw new Error('transaction rolled back: a statement in it failed');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable (e.g. it dropped mid-transaction): do not return it to the pool.
          broken = rollbackErr as Error;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },

    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
