import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminalStatus, type StatusEvent } from '@platform/contracts';
import { migrateClickHouse } from '@platform/clickhouse';
import { migrate } from '@platform/db';
import type { Subscription } from '@platform/event-bus';
import type { Logger, ShutdownStep } from '@platform/logger';
import { startRequestLogsConsumer } from './analytics/request-logs-consumer.ts';
import type { ApiDeps, ApiOptions } from './api-options.ts';
import { createApp } from './app.ts';
import { compose, type Composition } from './composition.ts';
import { liveGroupId, startBuildEventsConsumer, startLiveFeed, type BuildEventsConsumer } from './deployments/build-events-consumer.ts';
import type { DeploymentsRepo } from './deployments/deployments-repo.ts';
import { LiveLogs } from './live-logs.ts';

export type { ApiDeps, ApiOptions } from './api-options.ts';

/** Waits (bounded) until the writer has applied a status event to the deployment row. */
async function writerApplied(deployments: DeploymentsRepo, event: StatusEvent, timeoutMs = 15_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(20)) {
    const row = await deployments.get(event.deploymentId).catch(() => null);
    if (!row || row.last_event_seq >= event.seq || isTerminalStatus(row.status)) return;
  }
}

export interface ApiServer {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  /** Stops taking work, drains the consumer, closes sockets. The drivers belong to the caller. */
  close(): Promise<void>;
}

/** socket.io live logs and this replica's live feed of the build-event stream. */
async function startLiveLogs(server: Server, c: Composition, deps: ApiDeps, options: ApiOptions, logger: Logger) {
  const { deployments, projects, logStore } = c.repos;
  const auth = c.services.auth;
  const live = new LiveLogs(
    server,
    {
      logStore,
      deployments,
      logger: logger.child({ component: 'live-logs' }),
      access: {
        userFor: (token) => auth.userFor(token),
        canRead: async (userId, deployment) => (await projects.getOwned(deployment.project_id, userId)) !== null,
      },
    },
    options.liveLogs,
  );
  // Live delivery reads the stream in a group of this replica's own, so its sockets see every
  // deployment's events whichever replica's writer stores them.
  const liveFeed: Subscription = await startLiveFeed({
    bus: deps.bus,
    logger,
    groupId: options.liveGroupId ?? liveGroupId(),
    onEvents: async (events) => {
      // This feed can run ahead of the writer group. A terminal status goes out only once the
      // writer has applied it (routes published, row updated): a client that sees READY can
      // open the URL at once.
      for (const event of events) {
        if (event.type === 'status' && isTerminalStatus(event.status)) await writerApplied(deployments, event);
      }
      live.deliver(events);
    },
  });
  return { live, liveFeed };
}

/** The writers of the two streams: build events into ClickHouse and the DB, request logs into ClickHouse. */
async function startConsumers(c: Composition, deps: ApiDeps, options: ApiOptions, logger: Logger) {
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
  const server = createServer(createApp(c, options, options.isolation ?? deps.runner.isolation, logger));
  const { live, liveFeed } = await startLiveLogs(server, c, deps, options, logger);
  const consumers = await startConsumers(c, deps, options, logger);
  const { scheduler, reconciler, notifier } = c.workers;
  // Settle what a previous run left behind before launching anything new.
  await reconciler.start();
  scheduler.start();
  notifier.start();

  const steps: ShutdownStep[] = [
    { name: 'stop the scheduler', run: () => scheduler.stop() },
    { name: 'stop the reconciler', run: () => reconciler.stop() },
    { name: 'stop the notifier', run: () => notifier.stop() },
    { name: 'stop the live feed', run: () => liveFeed.stop() },
    { name: 'close live-log sockets', run: () => live.close() },
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
  };
}
