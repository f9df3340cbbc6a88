import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseStoreKey } from '@platform/certificates';
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

const int = (min: number, max: number, fallback: number) => optional(z.coerce.number().int().min(min).max(max).default(fallback));

export const proxyConfigSchema = z
  .object({
    // Port the proxy listens on. Default 8000.
    PROXY_PORT: int(0, 65_535, 8000),
    // Interface to listen on. Default 127.0.0.1.
    PROXY_HOST: optional(z.string().default('127.0.0.1')),
    // Processes serving the port (node:cluster); "auto" = one per CPU. Default 1.
    PROXY_WORKERS: optional(
      z
        .union([z.literal('auto'), z.coerce.number().int().min(1).max(256)])
        .default(1)
        .transform((v) => (v === 'auto' ? availableParallelism() : v)),
    ),
    // Domain the deployments are served under: <project>.<ROOT_DOMAIN>. Default localhost.
    ROOT_DOMAIN: optional(
      z
        .string()
        .regex(/^[a-z0-9.-]+$/, 'must be a lower-case domain name')
        .default('localhost'),
    ),
    // The api-server that api.<ROOT_DOMAIN> (websockets included) is forwarded to. Default http://127.0.0.1:9000.
    API_UPSTREAM_URL: optional(z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:9000')),
    // How long a route record is cached: a promote or rollback is live after at most this. Default 2000 ms.
    ROUTE_CACHE_TTL_MS: int(0, 300_000, 2_000),
    // Receiving a request, and any silence on a connection, is bounded by this. Default 30000 ms.
    REQUEST_TIMEOUT_MS: int(1_000, 600_000, 30_000),
    // A storage read that takes longer answers 504. Default 10000 ms.
    STORAGE_TIMEOUT_MS: int(100, 120_000, 10_000),
    // Memory for hot files, per worker. Default 268435456 (256 MiB).
    FILE_CACHE_MAX_BYTES: int(0, 64 * 1024 ** 3, 256 * 1024 ** 2),
    // Files larger than this are streamed from storage instead of cached. Default 8388608 (8 MiB).
    FILE_CACHE_MAX_FILE_BYTES: int(0, 1024 ** 3, 8 * 1024 ** 2),
    // How often request logs are published on the event bus. Default 1000 ms.
    REQUEST_LOG_FLUSH_MS: int(50, 60_000, 1_000),
    // Port of the HTTPS server (SNI, certificates from the object store) for custom domains; unset: HTTP only.
    HTTPS_PORT: optional(z.coerce.number().int().min(0).max(65_535).optional()),
    // 32 bytes (64 hex or base64 characters) opening the certificates' private keys; the api-server's same setting. Needed with HTTPS_PORT.
    CERTIFICATE_STORE_KEY: optional(z.string().optional()),
    // PEM files of the operator's certificate for *.ROOT_DOMAIN (and any name without its own). Both or neither.
    TLS_CERT_FILE: optional(z.string().optional()),
    TLS_KEY_FILE: optional(z.string().optional()),
    // How often a cached certificate is read again from storage: a renewal is served after at most this. Default 60000 ms.
    CERTIFICATE_REFRESH_MS: int(100, 3_600_000, 60_000),
    // Folder of the embedded object store (DATA_DIR/objects), used when S3_BUCKET is unset. Default .data
    DATA_DIR: optional(z.string().default('.data')),
    // pino level. Default info.
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
    // S3_BUCKET, AWS_REGION, S3_ENDPOINT, S3_FORCE_PATH_STYLE, AWS_ACCESS_KEY_ID...: the same bucket as the api-server.
    ...s3EnvShape,
    // KAFKA_BROKERS, KAFKA_TOPIC_REQUESTS, SASL/SSL...: where request logs go (unset: in process).
    ...kafkaEnvShape,
  })
  .superRefine((env, ctx) => {
    const complain = complainer(ctx);
    refineS3Env(env, complain);
    refineKafkaEnv(env, complain);
    if (env.HTTPS_PORT !== undefined && !env.CERTIFICATE_STORE_KEY)
      complain('CERTIFICATE_STORE_KEY', 'is needed with HTTPS_PORT (the same key as the api-server)');
    if (env.CERTIFICATE_STORE_KEY) {
      try {
        parseStoreKey(env.CERTIFICATE_STORE_KEY);
      } catch (err) {
        complain('CERTIFICATE_STORE_KEY', (err as Error).message);
      }
    }
    if ((env.TLS_CERT_FILE === undefined) !== (env.TLS_KEY_FILE === undefined)) complain('TLS_CERT_FILE', 'and TLS_KEY_FILE go together');
  });

export type ProxyConfig = z.output<typeof proxyConfigSchema> & {
  dataDir: string;
  drivers: { storage: StorageSettings; kafka: KafkaSettings | undefined };
};

/** Parses the environment once; a bad or half-given value stops start-up with one line naming the variable. */
export function loadProxyConfig(env: Record<string, string | undefined>): ProxyConfig {
  const result = proxyConfigSchema.safeParse(env);
  if (!result.success) throw new Error(formatConfigError(result.error));
  const dataDir = resolve(result.data.DATA_DIR);
  return {
    ...result.data,
    dataDir,
    drivers: { storage: storageFromEnv(result.data, join(dataDir, 'objects')), kafka: kafkaFromEnv(result.data) },
  };
}

/** The factory's options from the parsed configuration. */
export function proxyOptionsFrom(config: ProxyConfig) {
  return {
    rootDomain: config.ROOT_DOMAIN,
    routeTtlMs: config.ROUTE_CACHE_TTL_MS,
    apiUpstream: config.API_UPSTREAM_URL,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    storageTimeoutMs: config.STORAGE_TIMEOUT_MS,
    fileCacheMaxBytes: config.FILE_CACHE_MAX_BYTES,
    fileCacheMaxFileBytes: config.FILE_CACHE_MAX_FILE_BYTES,
    requestLogFlushMs: config.REQUEST_LOG_FLUSH_MS,
  };
}
