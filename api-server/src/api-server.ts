import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { isTerminalStatus, type StatusEvent } from '@platform/contracts';
import { createLogStore, createRequestLogStore, migrateClickHouse, type ClickHouse } from '@platform/clickhouse';
import { migrate, type Db } from '@platform/db';
import type { EventBus, Subscription } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import type { Runner, RunnerIsolation } from '@platform/runner';
import { startRequestLogsConsumer } from './analytics/request-logs-consumer.ts';
import { analyticsRoutes } from './analytics/routes.ts';
import { liveGroupId, startBuildEventsConsumer, startLiveFeed, type BuildEventsConsumerOptions } from './deployments/build-events-consumer.ts';
import { DeploymentsRepo } from './deployments/deployments-repo.ts';
import { RoutePublisher } from './deployments/route-publisher.ts';
import { clickHouseEventHistory } from './deployments/event-history.ts';
import { Reconciler, type ReconcilerOptions } from './deployments/reconciler.ts';
import { Scheduler, type SchedulerOptions } from './deployments/scheduler.ts';
import { errorHandler, refuseNulInUrl, unknownRoute } from './errors.ts';
import { dashboardRoutes } from './dashboard/dashboard.ts';
import { logsRoutes } from './http/logs-routes.ts';
import { apiRoutes } from './http/routes.ts';
import { LiveLogs, type LiveLogsOptions } from './live-logs.ts';
import { createApiMetrics } from './metrics.ts';
import { ProjectsRepo } from './projects/projects-repo.ts';
import { Urls } from './urls.ts';
import { Auth } from './auth/auth.ts';
import { authRoutes } from './auth/routes.ts';
import { UsersRepo } from './auth/users-repo.ts';
import type { AccessOptions } from './config.ts';
import { SecretBox } from './crypto/secret-box.ts';
import { EnvVarsRepo } from './env-vars/env-vars-repo.ts';
import { envVarRoutes } from './env-vars/routes.ts';
import { methodNotAllowed, pathsOf } from './http/method-not-allowed.ts';
import { openApiDocument, UNDOCUMENTED_PATHS } from './http/openapi.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { requestId, requestLog } from './http/request-id.ts';
import { Notifier, type NotifierOptions } from './notifications/notifier.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { requireOwnedDeployment, requireOwnedProject } from './projects/access.ts';
import { Deployer } from './projects/deployer.ts';
import { DeployHooks } from './webhooks/deploy-hooks.ts';
import { GithubWebhooks } from './webhooks/github.ts';

/** Waits (bounded) until the writer has applied a status event to the deployment row. */
async function writerApplied(deployments: DeploymentsRepo, event: StatusEvent, timeoutMs = 15_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(20)) {
    const row = await deployments.get(event.deploymentId).catch(() => null);
    if (!row || row.last_event_seq >= event.seq || isTerminalStatus(row.status)) return;
  }
}

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
  /** Folders a project's git URL may name as a local path; empty: local paths refused. */
  localGitRoots: readonly string[];
  /** How builds are isolated (the runner's probe): shown at GET /platform and in the dashboard. */
  isolation?: RunnerIsolation;
  scheduler: SchedulerOptions;
  reconciler?: ReconcilerOptions;
  logRetentionDays?: number;
  /** Keys, token lifetime, sign-up switch, rate limits (see config.ts). */
  access: AccessOptions;
  /** Retry timing of outgoing notifications (tests shorten it). */
  notifications?: Omit<NotifierOptions, 'allowPrivateUrls'>;
  /** Tuning of the build-event writer (batch size, linger, retry backoff). */
  buildEvents?: BuildEventsConsumerOptions;
  /** Consumer group of this replica's live feed; unique per replica (default: random). */
  liveGroupId?: string;
  liveLogs?: LiveLogsOptions;
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
  const box = new SecretBox(options.access.envEncryptionKey);
  const envVars = new EnvVarsRepo(deps.db, box);
  const metrics = createApiMetrics({ deployments });
  let scheduler: Scheduler;
  const reconciler = new Reconciler(
    {
      deployments,
      runner: deps.runner,
      bus: deps.bus,
      history: clickHouseEventHistory(deps.clickhouse),
      logger: logger.child({ component: 'reconciler' }),
      onFinished: (row) => {
        metrics.reconciled.inc({ status: row.status });
        scheduler.kick();
      },
    },
    { buildTimeoutMs: options.scheduler.taskSettings.timeoutMs, ...options.reconciler },
  );
  scheduler = new Scheduler(
    {
      deployments,
      projects,
      runner: deps.runner,
      reconciler,
      logger: logger.child({ component: 'scheduler' }),
      events: { launchFailed: (_row, retryable) => metrics.launchFailures.inc({ retryable: String(retryable) }) },
      // Production builds get the production variables, every other build the preview ones.
      resolveBuildEnv: (project, deployment) => envVars.resolve(project.id, deployment.target),
    },
    options.scheduler,
  );
  const users = new UsersRepo(deps.db);
  const auth = new Auth({ users, jwtSecret: options.access.jwtSecret, accessTokenTtlSeconds: options.access.accessTokenTtlSeconds });
  const notifier = new Notifier(
    { db: deps.db, box, urls: options.urls, logger: logger.child({ component: 'notifier' }) },
    { ...options.notifications, allowPrivateUrls: options.access.allowPrivateWebhookUrls },
  );
  const deployer = new Deployer({ deployments, scheduler, notifier });
  const minute = 60_000;
  const loginLimiter = new RateLimiter({ max: options.access.loginRateLimitPerMinute, windowMs: minute });
  const webhookLimiter = new RateLimiter({ max: options.access.webhookRateLimitPerMinute, windowMs: minute });
  const github = new GithubWebhooks({ db: deps.db, projects, deployer, box, limiter: webhookLimiter, logger });
  const deployHooks = new DeployHooks({ db: deps.db, deployer, limiter: webhookLimiter });
  const requireUser = auth.requireUser();

  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(requestLog(logger.child({ component: 'http' })));
  app.use(refuseNulInUrl);
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // Prometheus scrapes without a user token; keep /metrics on a private network.
  app.get('/metrics', metrics.handler);
  // The web dashboard's static pages: public (they call the API with the user's token).
  app.use(dashboardRoutes());
  const openapi = openApiDocument({ localGitRoots: options.localGitRoots });
  app.use(methodNotAllowed([...pathsOf(openapi), ...UNDOCUMENTED_PATHS]));
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  // Signed over the raw bytes: mounted before the JSON parser.
  app.use(github.receiver());
  // Room for the largest valid body: a 32,768-character env var value, each character an
  // escaped surrogate pair (12 bytes).
  app.use(express.json({ limit: '512kb' }));
  app.use(deployHooks.receiver());
  // Public: the dashboard shows a banner when builds run unsandboxed (single-user mode).
  const isolation = options.isolation ?? deps.runner.isolation;
  app.get('/platform', (_req, res) => {
    res.json({ builds: { sandboxed: !isolation.singleUser, summary: isolation.summary, problems: isolation.problems }, signup: options.access.signup });
  });
  app.use(authRoutes({ auth, users, loginLimiter, signup: options.access.signup }));
  // Everything below needs a signed-in user; everything under a project or deployment id, its owner.
  app.use(requireUser);
  app.use('/projects/:projectId', requireOwnedProject(projects));
  app.use('/deployments/:deploymentId', requireOwnedDeployment(projects, deployments));
  app.use(logsRoutes({ deployments, logStore }));
  app.use(
    apiRoutes({ db: deps.db, projects, deployments, scheduler, deployer, routes, notifier, logStore, box, urls: options.urls, localGitRoots: options.localGitRoots, logger }),
  );
  app.use(envVarRoutes({ envVars }));
  app.use(github.ownerRoutes());
  app.use(deployHooks.ownerRoutes());
  app.use(notificationRoutes({ db: deps.db, box, allowPrivateUrls: options.access.allowPrivateWebhookUrls }));
  // Behind requireUser and the project-owner guard mounted above.
  const requestLogs = createRequestLogStore(deps.clickhouse);
  app.use(analyticsRoutes({ projects, requestLogs }));
  app.use(unknownRoute);
  app.use(errorHandler(logger));

  const server = createServer(app);
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
  const consumer = await startBuildEventsConsumer(
    {
      bus: deps.bus,
      logStore,
      deployments,
      projects,
      routes,
      logger,
      onTerminal: () => {
        scheduler.kick();
        notifier.kick();
      },
    },
    options.buildEvents,
  );
  const requestLogsSubscription = await startRequestLogsConsumer({ bus: deps.bus, store: requestLogs, logger });
  // Settle what a previous run left behind before launching anything new.
  await reconciler.start();
  scheduler.start();
  notifier.start();

  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    async close() {
      await scheduler.stop();
      await reconciler.stop();
      await notifier.stop();
      await liveFeed.stop();
      await live.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await consumer.stop();
      await requestLogsSubscription.stop();
    },
  };
}
