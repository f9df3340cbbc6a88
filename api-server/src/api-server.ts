import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { migrateClickHouse } from '@platform/clickhouse';
import { migrate } from '@platform/db';
import type { Logger, ShutdownStep } from '@platform/logger';
import { startRequestLogsConsumer } from './analytics/request-logs-consumer.ts';
import type { ApiDeps, ApiOptions } from './api-options.ts';
import { createApp } from './app.ts';
import { compose, type Composition } from './composition.ts';
import { startBuildEventsConsumer, type BuildEventsConsumer } from './deployments/build-events-consumer.ts';
import type { EventGuard } from './deployments/event-guard.ts';
import { createLiveLogs, type LiveLogs } from './live-logs/index.ts';

export type { ApiDeps, ApiOptions } from './api-options.ts';

export interface ApiServer {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  /** Stops taking work, drains the consumer, closes sockets. The drivers belong to the caller. */
  close(): Promise<void>;
  /** One data-lifecycle pass now (deletions, retention, cache eviction, measuring); resolves when it ended. */
  runDataLifecyclePass(): Promise<void>;
}

/** The build-log path (sockets, live feed, history, logs routes): wired here, owned by live-logs/. */
/** The signature check of one consumer of the build-events topic, counting its drops in /metrics. */
function eventGuard(c: Composition, options: ApiOptions, consumer: 'writer' | 'live'): EventGuard {
  return {
    ...(options.buildEventsSigningSecret ? { signingSecret: options.buildEventsSigningSecret } : {}),
    rejected: (reason) => c.metrics.buildEventsRejected.inc({ reason, consumer }),
  };
}

function liveLogsFor(c: Composition, deps: ApiDeps, options: ApiOptions, logger: Logger): LiveLogs {
  const { deployments, projects, logStore } = c.repos;
  const auth = c.services.auth;
  return createLiveLogs(
    {
      bus: deps.bus,
      logStore,
      deployments,
      logger,
      guard: eventGuard(c, options, 'live'),
      access: {
        userFor: (token) => auth.userFor(token),
        stillValid: (token) => auth.stillValid(token),
        onRevoked: (listener) => auth.onRevoked(listener),
        canRead: async (userId, deployment) => (await projects.getOwned(deployment.project_id, userId)) !== null,
      },
    },
    { groupId: options.liveGroupId, ...options.liveLogs },
  );
}

/** The writers of the two streams: build events into ClickHouse and the DB, request logs into ClickHouse. */
async function startConsumers(c: Composition, live: LiveLogs, deps: ApiDeps, options: ApiOptions, logger: Logger) {
  const { repos, workers } = c;
  const buildEvents: BuildEventsConsumer = await startBuildEventsConsumer(
    {
      bus: deps.bus,
      logStore: repos.logStore,
      deployments: repos.deployments,
      projects: repos.projects,
      routes: c.services.routes,
      logger,
      onTerminal: () => {
        workers.scheduler.kick();
        workers.notifier.kick();
      },
      // Every replica's live feed holds a terminal status until a writer says it applied it.
      onApplied: live.onApplied,
      guard: eventGuard(c, options, 'writer'),
    },
    options.buildEvents,
  );
  const requestLogs = await startRequestLogsConsumer({ bus: deps.bus, store: repos.requestLogs, logger });
  return { buildEvents, requestLogs };
}

/** Runs every step in order, even after one failed; rethrows the first failure at the end. */
async function runSteps(steps: readonly ShutdownStep[], logger: Logger): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step.run();
    } catch (err) {
      logger.error({ err, step: step.name }, 'api-server close step failed');
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/** The api-server factory: REST API, socket.io live logs, build-event consumer, scheduler. */
export async function createApiServer(deps: ApiDeps, options: ApiOptions): Promise<ApiServer> {
  const logger = deps.logger.child({ service: 'api-server' });
  await migrate(deps.db);
  await migrateClickHouse(deps.clickhouse, { logRetentionDays: options.logRetentionDays });
  const c = compose(deps, options, logger);
  const live = liveLogsFor(c, deps, options, logger);
  const server = createServer(createApp(c, live.routes, options, options.isolation ?? deps.runner.isolation, logger));
  await live.attach(server);
  const consumers = await startConsumers(c, live, deps, options, logger);
  const { scheduler, reconciler, notifier, dataLifecycle, certificates, githubReporter } = c.workers;
  // Settle what a previous run left behind before launching anything new.
  await reconciler.start();
  scheduler.start();
  notifier.start();
  dataLifecycle.start();
  certificates?.start();
  githubReporter?.start();

  const steps: ShutdownStep[] = [
    { name: 'stop the scheduler', run: () => scheduler.stop() },
    { name: 'stop the reconciler', run: () => reconciler.stop() },
    { name: 'stop the notifier', run: () => notifier.stop() },
    { name: 'stop the data-lifecycle worker', run: () => dataLifecycle.stop() },
    { name: 'stop the certificates worker', run: async () => certificates?.stop() },
    { name: 'stop the GitHub reporter', run: async () => githubReporter?.stop() },
    { name: 'stop the live feeds, close live-log sockets', run: () => live.close() },
    { name: 'close the http server', run: () => new Promise<void>((resolve) => server.close(() => resolve())) },
    { name: 'drain the build-event writer', run: () => consumers.buildEvents.stop() },
    { name: 'stop the request-log writer', run: () => consumers.requestLogs.stop() },
  ];
  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () => runSteps(steps, logger),
    runDataLifecyclePass: () => dataLifecycle.runPass(),
  };
}
