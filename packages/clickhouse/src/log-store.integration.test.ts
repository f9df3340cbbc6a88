import { describe } from 'vitest';
import { optionalIntegrationEnv } from '@platform/testing/infra-env';
import { createClickHouse } from './client.ts';
import { describeLogStoreContract } from './log-store.contract.ts';

/**
 * The same SQL on a ClickHouse server over HTTP. No server can run on the machines that
 * build this project: there is no Docker, and Debian's `clickhouse-server` package is
 * version 18.16 (2018), which rejects query parameters and lacks DateTime64. So this suite
 * runs only where CLICKHOUSE_URL points at a server (e.g. `docker compose up clickhouse`,
 * then CLICKHOUSE_URL=http://127.0.0.1:8123); the chDB run of the same suite is in
 * log-store.test.ts and always runs.
 */
const url = optionalIntegrationEnv('CLICKHOUSE_URL');

if (url) {
  describeLogStoreContract(`ClickHouse server at ${url}`, async () =>
    createClickHouse({
      driver: 'http',
      url,
      database: optionalIntegrationEnv('CLICKHOUSE_DATABASE') ?? 'default',
      username: optionalIntegrationEnv('CLICKHOUSE_USER') ?? 'default',
      password: optionalIntegrationEnv('CLICKHOUSE_PASSWORD') ?? '',
    }),
  );
} else {
  describe.skip('LogStore contract on a ClickHouse server: SKIPPED, CLICKHOUSE_URL is not set (no ClickHouse server can run on this machine: no Docker, and Debian’s clickhouse-server 18.16 is too old for query parameters and DateTime64)', () => {
    describeLogStoreContract('ClickHouse server (not configured)', async () => {
      throw new Error('unreachable: skipped');
    });
  });
}
