import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createClickHouse } from '@platform/clickhouse';
import { createPgliteDb } from '@platform/db';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
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
 * The embedded default: every driver in process, all data under DATA_DIR. A bus or store
 * passed in is shared (the all-in-one start runs the proxy on the same ones).
 */
export async function createEmbeddedDrivers(
  config: ApiConfig,
  logger: Logger,
  shared: { bus?: EventBus; store?: ObjectStore } = {},
): Promise<ApiDeps> {
  await mkdir(config.dataDir, { recursive: true });
  const objectsDir = join(config.dataDir, 'objects');
  const bus = shared.bus ?? createInProcessEventBus();
  return {
    db: await createPgliteDb({ dataDir: join(config.dataDir, 'pglite') }),
    store: shared.store ?? createLocalObjectStore({ rootDir: objectsDir }),
    bus,
    clickhouse: createClickHouse({ driver: 'chdb', path: join(config.dataDir, 'chdb') }),
    runner: createRunner(config, bus, logger),
    logger,
  };
}

/** The runner RUNNER names. Its events come back through `bus` (local, container) or the task's own transport (ECS). */
export function createRunner(config: ApiConfig, bus: EventBus, logger: Logger): Runner {
  const log = logger.child({ component: `${config.RUNNER}-runner` });
  const onDiagnostic = (line: string) => log.debug(line);
  switch (config.RUNNER) {
    case 'local':
      return createLocalRunner({ command: localBuildServerCommand(), eventBus: bus, onDiagnostic });
    case 'container':
      return createContainerRunner({
        engine: config.CONTAINER_ENGINE,
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
        storage: { driver: 'local', dir: join(config.dataDir, 'objects') },
        transport: { driver: 'pipe' },
        allowLocalGit: config.ALLOW_LOCAL_GIT,
        timeoutMs: config.BUILD_TIMEOUT_MS,
      },
    },
    reconciler: { intervalMs: config.RECONCILE_INTERVAL_MS, settleMs: config.RECONCILE_SETTLE_MS },
  };
}
