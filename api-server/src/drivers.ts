import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { BuildTask } from '@platform/contracts';
import { createClickHouse } from '@platform/clickhouse';
import { createPgliteDb, createPostgresDb } from '@platform/db';
import { createInProcessEventBus, createKafkaEventBusFromSettings, type EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import { createObjectStore, type ObjectStore } from '@platform/object-store';
import { createLocalRunner } from '@platform/runner';
import type { ApiDeps, ApiOptions } from './api-server.ts';
import type { ApiConfig } from './config.ts';
import { Urls } from './urls.ts';

const require = createRequire(import.meta.url);

/** argv that runs the build-server entry point in a child process (TypeScript through tsx). */
export function localBuildServerCommand(): string[] {
  return [process.execPath, '--import', require.resolve('tsx'), require.resolve('@platform/build-server/main')];
}

/**
 * Builds every driver the config names: PGlite or PostgreSQL, a local folder or S3, the
 * in-process bus or Kafka, chDB or a ClickHouse server; builds run through the local runner.
 * A bus or store passed in is shared (the all-in-one start runs the proxy on the same ones).
 */
export async function createDrivers(
  config: ApiConfig,
  logger: Logger,
  shared: { bus?: EventBus; store?: ObjectStore } = {},
): Promise<ApiDeps> {
  const { drivers } = config;
  const usesDataDir =
    drivers.db.driver === 'pglite' || drivers.storage.driver === 'local' || drivers.clickhouse.driver === 'chdb';
  if (usesDataDir) await mkdir(config.dataDir, { recursive: true });

  const dbLog = logger.child({ component: 'db' });
  const db =
    drivers.db.driver === 'postgres'
      ? await createPostgresDb({
          connectionString: drivers.db.url,
          maxConnections: drivers.db.maxConnections,
          applicationName: 'api-server',
          onIdleError: (err) => dbLog.warn({ err }, 'idle PostgreSQL connection failed; it will be replaced'),
        })
      : await createPgliteDb({ dataDir: drivers.db.dataDir });
  const bus =
    shared.bus ??
    (drivers.bus.driver === 'kafka'
      ? createKafkaEventBusFromSettings(drivers.bus.kafka, 'api-server', logger.child({ component: 'kafka' }))
      : createInProcessEventBus());
  const runnerLog = logger.child({ component: 'local-runner' });
  return {
    db,
    store: shared.store ?? createObjectStore(drivers.storage),
    bus,
    clickhouse: createClickHouse(drivers.clickhouse),
    runner: createLocalRunner({ command: localBuildServerCommand(), eventBus: bus, onDiagnostic: (line) => runnerLog.debug(line) }),
    logger,
  };
}

/** @deprecated The drivers follow the config now; use `createDrivers`. */
export const createEmbeddedDrivers = createDrivers;

/** Where the runner runs the build-server; it decides what the task must carry. */
export type RunnerKind = 'local' | 'ecs';

/**
 * Storage and transport for the build task, from the same config as the api-server's own
 * drivers. The local runner relays events from the child's pipe onto the bus, and hands
 * the child the S3 keys it has no role for (the build-server keeps them from user
 * commands); an ECS task publishes to Kafka itself and gets S3 access from its task role.
 */
export function buildTaskSettings(config: ApiConfig, runner: RunnerKind): Pick<BuildTask, 'storage' | 'transport'> {
  const { storage, bus } = config.drivers;
  if (runner === 'local') return { storage, transport: { driver: 'pipe' } };
  if (bus.driver !== 'kafka') throw new Error('builds on ECS need KAFKA_BROKERS: the in-process bus cannot reach them');
  if (storage.driver !== 's3') throw new Error('builds on ECS need S3_BUCKET: a local folder cannot be reached from them');
  const { credentials: _fromTaskRole, ...s3 } = storage;
  const { kafka } = bus;
  return {
    storage: s3,
    transport: {
      driver: 'kafka',
      brokers: kafka.brokers,
      clientId: 'build-server',
      ssl: kafka.ssl,
      ...(kafka.caFile ? { caFile: kafka.caFile } : {}),
      ...(kafka.sasl ? { sasl: kafka.sasl } : {}),
      topic: kafka.topics.buildEvents,
    },
  };
}

export function apiOptionsFrom(config: ApiConfig): ApiOptions {
  return {
    urls: new Urls({ rootDomain: config.ROOT_DOMAIN, scheme: config.PUBLIC_SCHEME, port: config.PUBLIC_PORT ?? config.PROXY_PORT }),
    allowLocalGit: config.ALLOW_LOCAL_GIT,
    logRetentionDays: config.LOG_RETENTION_DAYS,
    scheduler: {
      maxConcurrentBuilds: config.MAX_CONCURRENT_BUILDS,
      taskSettings: {
        ...buildTaskSettings(config, 'local'),
        allowLocalGit: config.ALLOW_LOCAL_GIT,
        timeoutMs: config.BUILD_TIMEOUT_MS,
      },
    },
  };
}
