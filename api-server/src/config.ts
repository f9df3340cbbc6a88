import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
  // Secret that signs access tokens (JWT, HS256), at least 32 characters; several replicas need the same one. Default: generated once into DATA_DIR/secrets.
  JWT_SECRET: optional(z.string().min(32, 'must be at least 32 characters').optional()),
  // Lifetime of an access token from login or sign-up, in seconds. Default 12 hours.
  ACCESS_TOKEN_TTL_SECONDS: optional(z.coerce.number().int().min(60).max(30 * 86_400).default(12 * 3_600)),
  // AES-256 key (64 hex characters or 44 base64) encrypting env vars and webhook secrets at rest. Default: generated once into DATA_DIR/secrets.
  ENV_ENCRYPTION_KEY: optional(
    z
      .string()
      .refine((v) => /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64').length === 32, 'must be 32 bytes as 64 hex or base64 characters')
      .optional(),
  ),
  // Allow sign-up of new accounts. Default true.
  ALLOW_SIGNUP: optional(z.enum(['true', 'false', '1', '0']).default('true')).transform((v) => v === 'true' || v === '1'),
  // Login attempts per client address per minute. Default 10.
  LOGIN_RATE_LIMIT_PER_MINUTE: optional(z.coerce.number().int().min(1).default(10)),
  // Webhook and deploy-hook requests per client address per minute. Default 600.
  WEBHOOK_RATE_LIMIT_PER_MINUTE: optional(z.coerce.number().int().min(1).default(600)),
  // Let notification endpoints point at loopback or private addresses. Default false (they could reach internal services).
  ALLOW_PRIVATE_WEBHOOK_URLS: optional(z.enum(['true', 'false', '1', '0']).default('false')).transform((v) => v === 'true' || v === '1'),
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

export interface ApiSecrets {
  jwtSecret: Uint8Array;
  envEncryptionKey: Buffer;
}

/**
 * The signing and encryption keys: from the environment, or (embedded default, so `npm start`
 * needs no setup) generated once and kept in `DATA_DIR/secrets/` with owner-only permissions.
 */
export function loadApiSecrets(config: ApiConfig): ApiSecrets {
  const jwt = config.JWT_SECRET ?? storedSecret(config.dataDir, 'jwt-secret', () => randomBytes(48).toString('base64url'));
  const key = config.ENV_ENCRYPTION_KEY ?? storedSecret(config.dataDir, 'env-encryption-key', () => randomBytes(32).toString('hex'));
  return {
    jwtSecret: new TextEncoder().encode(jwt),
    envEncryptionKey: /^[0-9a-fA-F]{64}$/.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64'),
  };
}

function storedSecret(dataDir: string, name: string, generate: () => string): string {
  const dir = join(dataDir, 'secrets');
  const file = join(dir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = generate();
  try {
    // wx: two processes starting at once keep the first one's secret.
    writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(file, 'utf8').trim();
  }
  return value;
}

/** What accounts, tokens, secrets at rest and rate limits need from the configuration. */
export interface AccessOptions extends ApiSecrets {
  accessTokenTtlSeconds: number;
  allowSignup: boolean;
  loginRateLimitPerMinute: number;
  webhookRateLimitPerMinute: number;
  allowPrivateWebhookUrls: boolean;
}

export function accessOptionsFrom(config: ApiConfig): AccessOptions {
  return {
    ...loadApiSecrets(config),
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    allowSignup: config.ALLOW_SIGNUP,
    loginRateLimitPerMinute: config.LOGIN_RATE_LIMIT_PER_MINUTE,
    webhookRateLimitPerMinute: config.WEBHOOK_RATE_LIMIT_PER_MINUTE,
    allowPrivateWebhookUrls: config.ALLOW_PRIVATE_WEBHOOK_URLS,
  };
}
