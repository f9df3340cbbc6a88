import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

export type ClickHouse = ClickHouseClient;

export type ClickHouseSettings =
  /** The ClickHouse engine in process; chDB binds one data folder per process. */
  { driver: 'chdb'; path: string } | { driver: 'http'; url: string; database: string; username: string; password: string };

/**
 * The production client either way: only the connection handed to `createClient` differs,
 * so every query in this package runs unchanged on chDB and on a ClickHouse server.
 */
export function createClickHouse(settings: ClickHouseSettings): ClickHouse {
  if (settings.driver === 'chdb') {
    return createClient({ connection: createChdbConnection({ path: settings.path }) } as Parameters<typeof createClient>[0]);
  }
  return createClient({
    url: settings.url,
    database: settings.database,
    username: settings.username,
    password: settings.password,
    clickhouse_settings: { async_insert: 0 },
  });
}
