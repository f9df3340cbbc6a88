import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  complainer,
  formatConfigError,
  kafkaEnvShape,
  kafkaFromEnv,
  refineKafkaEnv,
  refineS3Env,
  s3EnvShape,
  storageFromEnv,
  unsetIfBlank as optional,
  type KafkaSettings,
  type StorageSettings,
} from '@platform/contracts';
import type { ClickHouseSettings } from '@platform/clickhouse';
const port = (fallback: number) => optional(z.coerce.number().int().min(0).max(65_535).default(fallback));

const apiEnvShape = {
  // Port of the REST API and socket.io. Default 9000.
  API_PORT: port(9000),
  // Interface to listen on. Default 127.0.0.1 (use 0.0.0.0 behind a load balancer).
  API_HOST: optional(z.string().default('127.0.0.1')),
  // Domain under which deployments are served: <project>.<ROOT_DOMAIN>. Default localhost.
  ROOT_DOMAIN: optional(z.string().regex(/^[a-z0-9.-]+$/, 'must be a lower-case domain name').default('localhost')),
  // Scheme of the public deployment URLs. Default http.
  PUBLIC_SCHEME: optional(z.enum(['http', 'https']).default('http')),
  // Port in the public deployment URLs; default: PROXY_PORT.
  PUBLIC_PORT: optional(z.coerce.number().int().min(1).max(65_535).optional()),
  // Port of the s3-reverse-proxy. Default 8000.
  PROXY_PORT: port(8000),
  // Folder for every embedded driver's data (PGlite, objects, chDB). Default .data
  DATA_DIR: optional(z.string().default('.data')),
  // Builds running at once. Default 2.
  MAX_CONCURRENT_BUILDS: optional(z.coerce.number().int().min(1).max(1_000).default(2)),
  // A build running longer is killed and ends in ERROR. Default 15 minutes.
  BUILD_TIMEOUT_MS: optional(z.coerce.number().int().min(1_000).default(15 * 60_000)),
  // Days build logs are kept in ClickHouse. Default 30.
  LOG_RETENTION_DAYS: optional(z.coerce.number().int().min(1).default(30)),
  // Accept local folders as git URLs (embedded default only). Default true.
  ALLOW_LOCAL_GIT: optional(z.enum(['true', 'false', '1', '0']).default('true')).transform((v) => v === 'true' || v === '1'),
  // pino level. Default info.
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),

  // PostgreSQL for metadata, e.g. postgres://user:password@host:5432/platform. Unset: PGlite under DATA_DIR.
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL').optional()),
  // Most PostgreSQL connections one api-server opens. Default 10.
  DATABASE_POOL_MAX: optional(z.coerce.number().int().min(1).max(1_000).optional()),

  // ClickHouse server over HTTP(S), e.g. http://clickhouse:8123. Unset (and no CLICKHOUSE_HOST): chDB under DATA_DIR.
  CLICKHOUSE_URL: optional(z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL').optional()),
  // The same as a host name (host or host:port, plain HTTP, port 8123 by default), as in the original .env.
  CLICKHOUSE_HOST: optional(z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port (use CLICKHOUSE_URL for https)').optional()),
  // Database holding log_events. Default default.
  CLICKHOUSE_DATABASE: optional(z.string().regex(/^[A-Za-z0-9_]+$/, 'must be a database name').optional()),
  // ClickHouse user. Default default.
  CLICKHOUSE_USER: optional(z.string().optional()),
  // ClickHouse password. Default empty.
  CLICKHOUSE_PASSWORD: optional(z.string().optional()),

  ...s3EnvShape,
  ...kafkaEnvShape,
};

export const apiConfigSchema = z.object(apiEnvShape).superRefine((env, ctx) => {
  const complain = complainer(ctx);
  refineS3Env(env, complain);
  refineKafkaEnv(env, complain);
  if (env.DATABASE_POOL_MAX !== undefined && !env.DATABASE_URL) complain('DATABASE_POOL_MAX', 'needs DATABASE_URL');
  if (env.CLICKHOUSE_URL && env.CLICKHOUSE_HOST) complain('CLICKHOUSE_HOST', 'set CLICKHOUSE_URL or CLICKHOUSE_HOST, not both');
  if (!env.CLICKHOUSE_URL && !env.CLICKHOUSE_HOST) {
    for (const name of ['CLICKHOUSE_DATABASE', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD'] as const) {
      if (env[name] !== undefined) complain(name, 'needs CLICKHOUSE_URL or CLICKHOUSE_HOST');
    }
  }
});

/** Which driver serves each concern, decided by the environment alone. */
export interface ApiDriverSettings {
  db: { driver: 'pglite'; dataDir: string } | { driver: 'postgres'; url: string; maxConnections: number };
  storage: StorageSettings;
  bus: { driver: 'in-process' } | { driver: 'kafka'; kafka: KafkaSettings };
  clickhouse: ClickHouseSettings;
}

export type ApiConfig = z.output<typeof apiConfigSchema> & { dataDir: string; drivers: ApiDriverSettings };

/** Parses the environment once; a bad or half-given value stops start-up with one line naming the variable. */
export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  const result = apiConfigSchema.safeParse(env);
  if (!result.success) throw new Error(formatConfigError(result.error));
  const parsed = result.data;
  const dataDir = resolve(parsed.DATA_DIR);
  const kafka = kafkaFromEnv(parsed);
  const clickhouseUrl = parsed.CLICKHOUSE_URL ?? (parsed.CLICKHOUSE_HOST ? clickhouseHostUrl(parsed.CLICKHOUSE_HOST) : undefined);
  return {
    ...parsed,
    dataDir,
    drivers: {
      db: parsed.DATABASE_URL
        ? { driver: 'postgres', url: parsed.DATABASE_URL, maxConnections: parsed.DATABASE_POOL_MAX ?? 10 }
        : { driver: 'pglite', dataDir: join(dataDir, 'pglite') },
      storage: storageFromEnv(parsed, join(dataDir, 'objects')),
      bus: kafka ? { driver: 'kafka', kafka } : { driver: 'in-process' },
      clickhouse: clickhouseUrl
        ? {
            driver: 'http',
            url: clickhouseUrl,
            database: parsed.CLICKHOUSE_DATABASE ?? 'default',
            username: parsed.CLICKHOUSE_USER ?? 'default',
            password: parsed.CLICKHOUSE_PASSWORD ?? '',
          }
        : { driver: 'chdb', path: join(dataDir, 'chdb') },
    },
  };
}

/** `clickhouse` → `http://clickhouse:8123`; `clickhouse:18123` → `http://clickhouse:18123`. */
function clickhouseHostUrl(host: string): string {
  return `http://${host}${/:\d+$/.test(host) ? '' : ':8123'}`;
}
