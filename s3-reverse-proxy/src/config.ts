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

export const proxyConfigSchema = z
  .object({
    // Port the proxy listens on. Default 8000.
    PROXY_PORT: optional(z.coerce.number().int().min(0).max(65_535).default(8000)),
    // Interface to listen on. Default 127.0.0.1.
    PROXY_HOST: optional(z.string().default('127.0.0.1')),
    // How long a route record is cached: a promote or rollback is live after at most this. Default 2000 ms.
    ROUTE_CACHE_TTL_MS: optional(z.coerce.number().int().min(0).max(300_000).default(2_000)),
    // Folder of the embedded object store (DATA_DIR/objects), used when S3_BUCKET is unset. Default .data
    DATA_DIR: optional(z.string().default('.data')),
    LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
    // S3_BUCKET, AWS_REGION, S3_ENDPOINT, S3_FORCE_PATH_STYLE, AWS_ACCESS_KEY_ID...: the same bucket as the api-server.
    ...s3EnvShape,
    // KAFKA_BROKERS, KAFKA_TOPIC_REQUESTS, SASL/SSL...: where request logs go (unset: nowhere outside the process).
    ...kafkaEnvShape,
  })
  .superRefine((env, ctx) => {
    const complain = complainer(ctx);
    refineS3Env(env, complain);
    refineKafkaEnv(env, complain);
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
