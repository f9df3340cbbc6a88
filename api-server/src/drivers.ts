import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createClickHouse } from '@platform/clickhouse';
import { createPgliteDb } from '@platform/db';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { createLocalRunner } from '@platform/runner';
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
  const runnerLog = logger.child({ component: 'local-runner' });
  return {
    db: await createPgliteDb({ dataDir: join(config.dataDir, 'pglite') }),
    store: shared.store ?? createLocalObjectStore({ rootDir: objectsDir }),
    bus,
    clickhouse: createClickHouse({ driver: 'chdb', path: join(config.dataDir, 'chdb') }),
    runner: createLocalRunner({ command: localBuildServerCommand(), eventBus: bus, onDiagnostic: (line) => runnerLog.debug(line) }),
    logger,
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
      taskSettings: {
        storage: { driver: 'local', dir: join(config.dataDir, 'objects') },
        transport: { driver: 'pipe' },
        allowLocalGit: config.ALLOW_LOCAL_GIT,
        timeoutMs: config.BUILD_TIMEOUT_MS,
      },
    },
  };
}
