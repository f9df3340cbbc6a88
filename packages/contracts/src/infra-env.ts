import { accessSync, constants } from 'node:fs';
import { z } from 'zod';
import type { S3Credentials, StorageSettings } from './build-task.ts';

/**
 * The environment variables that pick the S3 and Kafka drivers, shared by every service's
 * `config.ts` (names as in ORIGINAL-DESIGN's `.env` files). Each service spreads the shapes
 * into its own schema and calls the refine functions from its `superRefine`, so a half-given
 * setting stops start-up with a message naming the variable.
 */

/** An empty variable counts as unset, so `FOO=` in a .env file falls back to the default. */
export const unsetIfBlank = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const flag = () =>
  unsetIfBlank(z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).optional()).transform((v) =>
    v === undefined ? undefined : v === 'true' || v === '1',
  );

export const s3EnvShape = {
  // S3 bucket for build output, route records and build caches. Unset: a local folder under DATA_DIR.
  S3_BUCKET: unsetIfBlank(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
      .optional(),
  ),
  // Region of the bucket (and of ECS). Required with S3_BUCKET.
  AWS_REGION: unsetIfBlank(
    z
      .string()
      .regex(/^[a-z0-9-]+$/, 'must be a region name like us-east-1')
      .optional(),
  ),
  // An S3-compatible server instead of AWS, e.g. http://minio:9000. Needs S3_BUCKET.
  S3_ENDPOINT: unsetIfBlank(z.string().url().optional()),
  // Path-style URLs (http://host/bucket/key); most self-hosted S3 servers need true. Default false.
  S3_FORCE_PATH_STYLE: flag(),
  // Static keys. Unset: the AWS SDK's default chain (ECS task role, instance profile, ~/.aws).
  AWS_ACCESS_KEY_ID: unsetIfBlank(z.string().optional()),
  AWS_SECRET_ACCESS_KEY: unsetIfBlank(z.string().optional()),
  AWS_SESSION_TOKEN: unsetIfBlank(z.string().optional()),
};

export const kafkaEnvShape = {
  // Comma-separated host:port list. Unset: the in-process bus (one machine only).
  KAFKA_BROKERS: unsetIfBlank(
    z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port[,host:port...]')).min(1, 'must list at least one broker'))
      .optional(),
  ),
  // SASL user; needs KAFKA_PASSWORD.
  KAFKA_USERNAME: unsetIfBlank(z.string().optional()),
  // SASL password; needs KAFKA_USERNAME.
  KAFKA_PASSWORD: unsetIfBlank(z.string().optional()),
  // plain | scram-sha-256 | scram-sha-512. Default plain when KAFKA_USERNAME is set.
  KAFKA_SASL_MECHANISM: unsetIfBlank(z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional()),
  // TLS to the brokers. Default false, or true when KAFKA_CA_FILE is set.
  KAFKA_SSL: flag(),
  // PEM file of the CA that signed the brokers' certificates (e.g. Aiven's ca.pem).
  KAFKA_CA_FILE: unsetIfBlank(z.string().optional()),
  // Topic of build events (logs and status), keyed by deployment id. Default build-events.
  KAFKA_TOPIC_LOGS: unsetIfBlank(
    z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name')
      .optional(),
  ),
  // Topic of the proxy's request logs. Default request-logs.
  KAFKA_TOPIC_REQUESTS: unsetIfBlank(
    z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a Kafka topic name')
      .optional(),
  ),
};

type S3Env = z.output<z.ZodObject<typeof s3EnvShape>>;
type KafkaEnv = z.output<z.ZodObject<typeof kafkaEnvShape>>;

/** Adds one issue per half-given variable, on that variable. */
type Complain = (variable: string, message: string) => void;
export const complainer =
  (ctx: z.RefinementCtx): Complain =>
  (variable, message) =>
    ctx.addIssue({ code: 'custom', path: [variable], message });

export function refineS3Env(env: S3Env, complain: Complain): void {
  if (!env.S3_BUCKET) {
    if (env.S3_ENDPOINT) complain('S3_ENDPOINT', 'needs S3_BUCKET');
    if (env.S3_FORCE_PATH_STYLE !== undefined) complain('S3_FORCE_PATH_STYLE', 'needs S3_BUCKET');
  } else if (!env.AWS_REGION) {
    complain('AWS_REGION', 'is required with S3_BUCKET (any region, e.g. us-east-1, for MinIO)');
  }
  if (env.AWS_ACCESS_KEY_ID && !env.AWS_SECRET_ACCESS_KEY) complain('AWS_SECRET_ACCESS_KEY', 'is required with AWS_ACCESS_KEY_ID');
  if (env.AWS_SECRET_ACCESS_KEY && !env.AWS_ACCESS_KEY_ID) complain('AWS_ACCESS_KEY_ID', 'is required with AWS_SECRET_ACCESS_KEY');
  if (env.AWS_SESSION_TOKEN && !env.AWS_ACCESS_KEY_ID) complain('AWS_SESSION_TOKEN', 'needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
}

export function refineKafkaEnv(env: KafkaEnv, complain: Complain): void {
  if (!env.KAFKA_BROKERS) {
    for (const name of [
      'KAFKA_USERNAME',
      'KAFKA_PASSWORD',
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SSL',
      'KAFKA_CA_FILE',
      'KAFKA_TOPIC_LOGS',
      'KAFKA_TOPIC_REQUESTS',
    ] as const) {
      if (env[name] !== undefined) complain(name, 'needs KAFKA_BROKERS');
    }
    return;
  }
  if (env.KAFKA_PASSWORD && !env.KAFKA_USERNAME) complain('KAFKA_PASSWORD', 'needs KAFKA_USERNAME');
  if (env.KAFKA_USERNAME && !env.KAFKA_PASSWORD) complain('KAFKA_USERNAME', 'needs KAFKA_PASSWORD');
  if (env.KAFKA_SASL_MECHANISM && !env.KAFKA_USERNAME) complain('KAFKA_SASL_MECHANISM', 'needs KAFKA_USERNAME and KAFKA_PASSWORD');
  if (env.KAFKA_CA_FILE) {
    if (env.KAFKA_SSL === false) complain('KAFKA_CA_FILE', 'needs KAFKA_SSL=true (a CA file is only used for TLS)');
    try {
      accessSync(env.KAFKA_CA_FILE, constants.R_OK);
    } catch {
      complain('KAFKA_CA_FILE', `cannot read ${env.KAFKA_CA_FILE}`);
    }
  }
  if (env.KAFKA_TOPIC_LOGS && env.KAFKA_TOPIC_LOGS === env.KAFKA_TOPIC_REQUESTS) {
    complain('KAFKA_TOPIC_REQUESTS', 'must differ from KAFKA_TOPIC_LOGS');
  }
}

export function s3CredentialsFromEnv(env: S3Env): S3Credentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/** S3 when S3_BUCKET is set, else the local folder. Call after the refine passed. */
export function storageFromEnv(env: S3Env, localDir: string): StorageSettings {
  if (!env.S3_BUCKET) return { driver: 'local', dir: localDir };
  const credentials = s3CredentialsFromEnv(env);
  return {
    driver: 's3',
    bucket: env.S3_BUCKET,
    region: env.AWS_REGION!,
    forcePathStyle: env.S3_FORCE_PATH_STYLE ?? false,
    ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

export interface KafkaSettings {
  brokers: string[];
  ssl: boolean;
  caFile?: string;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  topics: { buildEvents: string; requestLogs: string };
}

/** Kafka when KAFKA_BROKERS is set, else undefined (the in-process bus). Call after the refine passed. */
export function kafkaFromEnv(env: KafkaEnv): KafkaSettings | undefined {
  if (!env.KAFKA_BROKERS) return undefined;
  return {
    brokers: env.KAFKA_BROKERS,
    ssl: env.KAFKA_SSL ?? env.KAFKA_CA_FILE !== undefined,
    ...(env.KAFKA_CA_FILE ? { caFile: env.KAFKA_CA_FILE } : {}),
    ...(env.KAFKA_USERNAME && env.KAFKA_PASSWORD
      ? { sasl: { mechanism: env.KAFKA_SASL_MECHANISM ?? 'plain', username: env.KAFKA_USERNAME, password: env.KAFKA_PASSWORD } }
      : {}),
    topics: { buildEvents: env.KAFKA_TOPIC_LOGS ?? 'build-events', requestLogs: env.KAFKA_TOPIC_REQUESTS ?? 'request-logs' },
  };
}

/** One line for every problem: `invalid configuration: KAFKA_PASSWORD: needs KAFKA_USERNAME; ...`. */
export function formatConfigError(error: z.ZodError): string {
  // The variable's name only: `KAFKA_BROKERS`, not `KAFKA_BROKERS.0` for its first entry.
  return `invalid configuration: ${error.issues.map((i) => `${String(i.path[0] ?? '(environment)')}: ${i.message}`).join('; ')}`;
}

/** The Kafka variables alone, with their cross-field rules (for tools and tests). */
export const kafkaEnvSchema = z.object(kafkaEnvShape).superRefine((env, ctx) => refineKafkaEnv(env, complainer(ctx)));
