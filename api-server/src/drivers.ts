import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { s3CredentialsFromEnv, type BuildTask } from '@platform/contracts';
import { createClickHouse } from '@platform/clickhouse';
import { createPgliteDb, createPostgresDb } from '@platform/db';
import { createInProcessEventBus, createKafkaEventBusFromSettings, type EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import { createObjectStore, type ObjectStore } from '@platform/object-store';
import { createContainerRunner, createEcsRunner, createLocalRunner, type Runner } from '@platform/runner';
import type { ApiDeps, ApiOptions } from './api-server.ts';
import { accessOptionsFrom, type ApiConfig } from './config.ts';
import { Urls } from './urls.ts';

const require = createRequire(import.meta.url);

/** argv that runs the build-server entry point in a child process (TypeScript through tsx). */
export function localBuildServerCommand(): string[] {
  return [process.execPath, '--import', require.resolve('tsx'), require.resolve('@platform/build-server/main')];
}

/**
 * Builds every driver the config names: PGlite or PostgreSQL, a local folder or S3, the
 * in-process bus or Kafka, chDB or a ClickHouse server; builds run through the runner RUNNER names.
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
  return {
    db,
    store: shared.store ?? createObjectStore(drivers.storage),
    bus,
    clickhouse: createClickHouse(drivers.clickhouse),
    runner: createRunner(config, bus, logger),
    logger,
  };
}

/** @deprecated The drivers follow the config now; use `createDrivers`. */
export const createEmbeddedDrivers = createDrivers;

/** The runner RUNNER names. Its events come back through `bus` (local, container) or the task's own transport (ECS). */
export function createRunner(config: ApiConfig, bus: EventBus, logger: Logger): Runner {
  const log = logger.child({ component: `${config.RUNNER}-runner` });
  const onDiagnostic = (line: string) => log.debug(line);
  const ecsCredentials = s3CredentialsFromEnv(config);
  switch (config.RUNNER) {
    case 'local':
      return createLocalRunner({
        command: localBuildServerCommand(),
        eventBus: bus,
        onDiagnostic,
        inheritedEnv: { PATH: config.PATH, ...(config.LANG ? { LANG: config.LANG } : {}), ...(config.TZ ? { TZ: config.TZ } : {}) },
      });
    case 'container':
      return createContainerRunner({
        engine: config.CONTAINER_ENGINE,
        enginePath: config.PATH,
        image: config.CONTAINER_IMAGE,
        limits: {
          cpus: config.CONTAINER_CPUS,
          memory: config.CONTAINER_MEMORY,
          pids: config.CONTAINER_PIDS_LIMIT,
          scratchSize: config.CONTAINER_SCRATCH_SIZE,
        },
        ...(config.CONTAINER_NETWORK ? { network: config.CONTAINER_NETWORK } : {}),
        eventBus: bus,
        onDiagnostic,
      });
    case 'ecs':
      return createEcsRunner({
        client: {
          region: config.AWS_REGION ?? 'us-east-1',
          ...(config.ECS_ENDPOINT ? { endpoint: config.ECS_ENDPOINT } : {}),
          ...(ecsCredentials ? { credentials: ecsCredentials } : {}),
        },
        cluster: config.ECS_CLUSTER!,
        taskDefinition: config.ECS_TASK_DEFINITION!,
        containerName: config.ECS_CONTAINER_NAME,
        ...(config.ECS_CAPACITY_PROVIDER ? { capacityProvider: config.ECS_CAPACITY_PROVIDER } : { launchType: config.ECS_LAUNCH_TYPE ?? 'FARGATE' }),
        subnets: config.ECS_SUBNETS,
        securityGroups: config.ECS_SECURITY_GROUPS,
        assignPublicIp: config.ECS_ASSIGN_PUBLIC_IP,
      });
  }
}

/** Where the runner runs the build-server; it decides what the task must carry. */
export type RunnerKind = ApiConfig['RUNNER'];

/**
 * Storage and transport for the build task, from the same config as the api-server's own
 * drivers. The local and container runners relay the build's events from its pipe onto the
 * bus, and hand it the S3 keys it has no role for (the build-server keeps them from user
 * commands); an ECS task publishes to Kafka itself and gets S3 access from its task role.
 */
export function buildTaskSettings(config: ApiConfig, runner: RunnerKind): Pick<BuildTask, 'storage' | 'transport'> {
  const { storage, bus } = config.drivers;
  if (runner !== 'ecs') return { storage, transport: { driver: 'pipe' } };
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
    access: accessOptionsFrom(config),
    scheduler: {
      maxConcurrentBuilds: config.MAX_CONCURRENT_BUILDS,
      ...(config.MAX_CONCURRENT_BUILDS_PER_PROJECT ? { maxConcurrentBuildsPerProject: config.MAX_CONCURRENT_BUILDS_PER_PROJECT } : {}),
      maxLaunchAttempts: config.BUILD_LAUNCH_ATTEMPTS,
      taskSettings: {
        ...buildTaskSettings(config, config.RUNNER),
        allowLocalGit: config.ALLOW_LOCAL_GIT,
        timeoutMs: config.BUILD_TIMEOUT_MS,
      },
    },
    reconciler: { intervalMs: config.RECONCILE_INTERVAL_MS, settleMs: config.RECONCILE_SETTLE_MS },
  };
}
