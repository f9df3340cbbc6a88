import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogStore, migrateClickHouse, type ClickHouse } from '@platform/clickhouse';
import { migrate, type Db } from '@platform/db';
import type { EventBus, Subscription } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import type { Runner } from '@platform/runner';
import { startBuildEventsConsumer } from './deployments/build-events-consumer.ts';
import { DeploymentsRepo } from './deployments/deployments-repo.ts';
import { RoutePublisher } from './deployments/route-publisher.ts';
import { Scheduler, type SchedulerOptions } from './deployments/scheduler.ts';
import { errorHandler, unknownRoute } from './errors.ts';
import { dashboardRoutes } from './dashboard/dashboard.ts';
import { apiRoutes } from './http/routes.ts';
import { LiveLogs } from './live-logs.ts';
import { ProjectsRepo } from './projects/projects-repo.ts';
import { Urls } from './urls.ts';

export interface ApiDeps {
  db: Db;
  store: ObjectStore;
  bus: EventBus;
  clickhouse: ClickHouse;
  runner: Runner;
  logger: Logger;
}

export interface ApiOptions {
  urls: Urls;
  allowLocalGit: boolean;
  scheduler: SchedulerOptions;
  logRetentionDays?: number;
}

export interface ApiServer {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  /** Stops taking work, drains the consumer, closes sockets. The drivers belong to the caller. */
  close(): Promise<void>;
}

/** The api-server factory: REST API, socket.io live logs, build-event consumer, scheduler. */
export async function createApiServer(deps: ApiDeps, options: ApiOptions): Promise<ApiServer> {
  const logger = deps.logger.child({ service: 'api-server' });
  await migrate(deps.db);
  await migrateClickHouse(deps.clickhouse, { logRetentionDays: options.logRetentionDays });

  const projects = new ProjectsRepo(deps.db);
  const deployments = new DeploymentsRepo(deps.db);
  const logStore = createLogStore(deps.clickhouse);
  const routes = new RoutePublisher({ store: deps.store, deployments, urls: options.urls, logger });
  const scheduler = new Scheduler(
    { deployments, projects, runner: deps.runner, bus: deps.bus, logger: logger.child({ component: 'scheduler' }) },
    options.scheduler,
  );

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '100kb' }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(dashboardRoutes());
  app.use(apiRoutes({ projects, deployments, scheduler, logStore, urls: options.urls, allowLocalGit: options.allowLocalGit }));
  app.use(unknownRoute);
  app.use(errorHandler(logger));

  const server = createServer(app);
  const live = new LiveLogs(server, { logStore, deployments, logger: logger.child({ component: 'live-logs' }) });
  const subscription: Subscription = await startBuildEventsConsumer({
    bus: deps.bus,
    logStore,
    deployments,
    projects,
    routes,
    logger,
    onEvents: (events) => live.deliver(events),
    onTerminal: () => scheduler.kick(),
  });
  await scheduler.recover();
  scheduler.start();

  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    async close() {
      scheduler.stop();
      await live.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await subscription.stop();
    },
  };
}
