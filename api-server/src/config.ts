import { resolve } from 'node:path';
import { z } from 'zod';

/** An empty variable counts as unset, so `FOO=` in a .env file falls back to the default. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const port = (fallback: number) => optional(z.coerce.number().int().min(0).max(65_535).default(fallback));

export const apiConfigSchema = z.object({
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
});

export type ApiConfig = z.output<typeof apiConfigSchema> & { dataDir: string };

/** Parses the environment once; a bad value stops start-up with a message naming the variable. */
export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  const result = apiConfigSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  return { ...result.data, dataDir: resolve(result.data.DATA_DIR) };
}
