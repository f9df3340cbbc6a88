import { homedir } from 'node:os';
import { join } from 'node:path';
/**
 * Settings of the real servers for integration tests. The integration project of
 * vitest.config.ts reads them from `.infra/env` (written by `npm run infra:up`) unless the
 * environment already has them. A missing one fails the test with a message saying how to
 * get it, never a silent skip.
 */
export function integrationEnv<const Name extends string>(...names: Name[]): Record<Name, string> {
  const out = {} as Record<Name, string>;
  const missing: string[] = [];
  for (const name of names) {
    const value = process.env[name];
    if (value) out[name] = value;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(
      `integration tests need ${missing.join(', ')}: start the servers with \`npm run infra:up\` ` +
        '(it writes .infra/env, which `npm run test:integration` reads) or export the variables yourself',
    );
  }
  return out;
}

/** The test runner's own environment: what spawned helpers (git, the harness's config) inherit. */
export const HOST_ENV: Readonly<Record<string, string | undefined>> = process.env;

/** Where `npm run infra:up` keeps downloaded servers (Kafka's jars among them). */
export function infraCacheDir(): string {
  return process.env.INFRA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'platform-infra');
}

/** An optional setting, undefined when absent. */
export function optionalIntegrationEnv(name: string): string | undefined {
  return process.env[name] || undefined;
}

/**
 * The shared broker as a service's environment: KAFKA_BROKERS and, since `npm run infra:up`
 * runs it with SASL/SCRAM and ACLs, the platform's super user (KAFKA_USERNAME,
 * KAFKA_PASSWORD, KAFKA_SASL_MECHANISM) when `.infra/env` has them.
 */
export function sharedKafkaEnv(): Record<string, string> {
  const { KAFKA_BROKERS } = integrationEnv('KAFKA_BROKERS');
  const env: Record<string, string> = { KAFKA_BROKERS };
  for (const name of ['KAFKA_USERNAME', 'KAFKA_PASSWORD', 'KAFKA_SASL_MECHANISM'] as const) {
    const value = optionalIntegrationEnv(name);
    if (value) env[name] = value;
  }
  return env;
}

/** The platform's SASL login on the shared broker, for a bus or client made directly; undefined on a PLAINTEXT broker. */
export function sharedKafkaSasl(): { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined {
  const env = sharedKafkaEnv();
  if (!env.KAFKA_USERNAME || !env.KAFKA_PASSWORD) return undefined;
  const mechanism = (env.KAFKA_SASL_MECHANISM ?? 'plain') as 'plain' | 'scram-sha-256' | 'scram-sha-512';
  return { mechanism, username: env.KAFKA_USERNAME, password: env.KAFKA_PASSWORD };
}
