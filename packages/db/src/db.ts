/** Runs SQL with `$1`-style parameters. The same SQL runs on PGlite and PostgreSQL. */
export interface DbExecutor {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** The metadata database: users, projects, deployments, env vars, domains. */
export interface Db extends DbExecutor {
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: DbExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
