import { createLogStore, createRequestLogStore, type LogStore, type RequestLogStore } from '@platform/clickhouse';
import type { Logger } from '@platform/logger';
import { AnalyticsService } from './analytics/analytics-service.ts';
import type { ApiDeps, ApiOptions } from './api-options.ts';
import { AuthService } from './auth/auth-service.ts';
import { UsersRepo } from './auth/auth-repo.ts';
import { SecretBox } from './crypto/secret-box.ts';
import { Deployer } from './deployments/deployer.ts';
import { DeploymentLifecycle } from './deployments/deployment-lifecycle.ts';
import { DeploymentsRepo } from './deployments/deployments-repo.ts';
import { DeploymentsService } from './deployments/deployments-service.ts';
import { clickHouseEventHistory } from './deployments/event-history.ts';
import { Reconciler } from './deployments/reconciler.ts';
import { RoutePublisher } from './deployments/route-publisher.ts';
import { Scheduler } from './deployments/scheduler.ts';
import { EnvVarsRepo } from './env-vars/env-vars-repo.ts';
import { EnvVarsService } from './env-vars/env-vars-service.ts';
import { GithubApp } from './github/github-app.ts';
import { GithubRepo } from './github/github-repo.ts';
import { GithubReporter } from './github/github-reporter.ts';
import { GitService } from './github/github-service.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { createApiMetrics, type ApiMetrics } from './metrics.ts';
import { Notifier } from './notifications/notifier.ts';
import { NotificationsRepo } from './notifications/notifications-repo.ts';
import { NotificationsService } from './notifications/notifications-service.ts';
import { ProjectsRepo } from './projects/projects-repo.ts';
import { ProjectsService } from './projects/projects-service.ts';
import { WebhooksRepo } from './webhooks/webhooks-repo.ts';
import { WebhooksService } from './webhooks/webhooks-service.ts';

/** Every statement on the metadata DB, by feature, and the ClickHouse stores. */
export interface Repos {
  users: UsersRepo;
  projects: ProjectsRepo;
  deployments: DeploymentsRepo;
  envVars: EnvVarsRepo;
  notifications: NotificationsRepo;
  webhooks: WebhooksRepo;
  github: GithubRepo;
  logStore: LogStore;
  requestLogs: RequestLogStore;
}

/** The background loops; `createApiServer` starts and stops them. */
export interface Workers {
  lifecycle: DeploymentLifecycle;
  scheduler: Scheduler;
  reconciler: Reconciler;
  notifier: Notifier;
  /** Commit statuses and pull-request comments on GitHub; only with a GitHub App configured. */
  githubReporter: GithubReporter | null;
}

/** The use-cases the routes call. */
export interface Services {
  auth: AuthService;
  projects: ProjectsService;
  deployments: DeploymentsService;
  envVars: EnvVarsService;
  notifications: NotificationsService;
  webhooks: WebhooksService;
  git: GitService;
  analytics: AnalyticsService;
  routes: RoutePublisher;
  /** Login: per account email and client address, and a looser cap per address. */
  loginLimiters: { account: RateLimiter; address: RateLimiter };
  /** Sign-up: per client address, a bucket apart from login's. */
  signupLimiter: RateLimiter;
  webhookLimiter: RateLimiter;
}

export interface Composition {
  repos: Repos;
  workers: Workers;
  services: Services;
  metrics: ApiMetrics;
}

function createRepos(deps: ApiDeps, box: SecretBox): Repos {
  return {
    users: new UsersRepo(deps.db),
    projects: new ProjectsRepo(deps.db),
    deployments: new DeploymentsRepo(deps.db),
    envVars: new EnvVarsRepo(deps.db, box),
    notifications: new NotificationsRepo(deps.db),
    webhooks: new WebhooksRepo(deps.db),
    github: new GithubRepo(deps.db),
    logStore: createLogStore(deps.clickhouse),
    requestLogs: createRequestLogStore(deps.clickhouse),
  };
}

/**
 * The lifecycle ends deployments for both the Scheduler and the Reconciler; whatever it
 * ends frees a build slot, so it wakes the scheduler (wired here, so neither knows the other).
 */
/** Set once the services exist: the scheduler asks the git integration for each build's clone credential. */
interface GitHolder {
  service?: GitService;
  app: GithubApp | null;
}

function createWorkers(deps: ApiDeps, options: ApiOptions, repos: Repos, metrics: ApiMetrics, box: SecretBox, logger: Logger, git: GitHolder): Workers {
  const { deployments, projects } = repos;
  const history = clickHouseEventHistory(deps.clickhouse);
  let scheduler: Scheduler | undefined;
  const lifecycle = new DeploymentLifecycle({
    deployments,
    runner: deps.runner,
    bus: deps.bus,
    history,
    logger: logger.child({ component: 'lifecycle' }),
    onFinished: (row) => {
      metrics.reconciled.inc({ status: row.status });
      scheduler?.kick();
    },
  });
  const reconciler = new Reconciler(
    { deployments, runner: deps.runner, history, lifecycle, logger: logger.child({ component: 'reconciler' }) },
    { buildTimeoutMs: options.scheduler.taskSettings.timeoutMs, ...options.reconciler },
  );
  const envVars = repos.envVars;
  scheduler = new Scheduler(
    {
      deployments,
      projects,
      runner: deps.runner,
      lifecycle,
      logger: logger.child({ component: 'scheduler' }),
      events: { launchFailed: (_row, retryable) => metrics.launchFailures.inc({ retryable: String(retryable) }) },
      // Production builds get the production variables, every other build the preview ones; a
      // fork's pull request (a stranger's code, approved to build) gets none.
      resolveBuildEnv: async (project, deployment) => ((await git.service?.isForkBuild(deployment.id)) ? {} : envVars.resolve(project.id, deployment.target)),
      resolveGitAccess: async (project, deployment) => (git.service ? git.service.buildAccess(project, deployment) : {}),
    },
    options.scheduler,
  );
  const notifier = new Notifier(
    { notifications: repos.notifications, deployments, box, urls: options.urls, logger: logger.child({ component: 'notifier' }) },
    { ...options.notifications, allowPrivateUrls: options.access.allowPrivateWebhookUrls },
  );
  const githubReporter =
    git.app && options.github
      ? new GithubReporter(
          { repo: repos.github, app: git.app, urls: options.urls, logger: logger.child({ component: 'github-reporter' }) },
          options.github.reporter,
        )
      : null;
  return { lifecycle, scheduler, reconciler, notifier, githubReporter };
}

function createServices(deps: ApiDeps, options: ApiOptions, repos: Repos, workers: Workers, box: SecretBox, logger: Logger, holder: GitHolder): Services {
  const { access, urls } = options;
  const routes: RoutePublisher = new RoutePublisher({
    store: deps.store,
    deployments: repos.deployments,
    urls,
    logger,
    branchAliases: (deployment, project): Promise<string[]> => git.branchAliases(deployment, project),
  });
  const deployer = new Deployer({ deployments: repos.deployments, wake: [workers.scheduler, workers.notifier] });
  const git: GitService = new GitService({
    repo: repos.github,
    app: holder.app,
    projects: repos.projects,
    deployer,
    lifecycle: workers.lifecycle,
    routes,
    box,
    urls,
    localGitRoots: options.localGitRoots,
    logger,
  });
  holder.service = git;
  const deployments = new DeploymentsService({
    deployments: repos.deployments,
    deployer,
    lifecycle: workers.lifecycle,
    routes,
    urls,
    onPromoted: (deployment, project) => workers.notifier.enqueue('deployment.promoted', deployment, project.slug),
  });
  const minute = 60_000;
  return {
    auth: new AuthService({ users: repos.users, jwtSecret: access.jwtSecret, accessTokenTtlSeconds: access.accessTokenTtlSeconds, signup: access.signup }),
    projects: new ProjectsService({ projects: repos.projects, deployments, box, localGitRoots: options.localGitRoots }),
    deployments,
    envVars: new EnvVarsService(repos.envVars),
    notifications: new NotificationsService({ notifications: repos.notifications, box, allowPrivateUrls: access.allowPrivateWebhookUrls }),
    webhooks: new WebhooksService({ webhooks: repos.webhooks, projects: repos.projects, deployer, box, logger, git }),
    git,
    analytics: new AnalyticsService({ requestLogs: repos.requestLogs }),
    routes,
    loginLimiters: {
      account: new RateLimiter({ max: access.loginRateLimitPerMinute, windowMs: minute }),
      address: new RateLimiter({ max: access.loginAddressRateLimitPerMinute, windowMs: minute }),
    },
    signupLimiter: new RateLimiter({ max: access.signupRateLimitPerMinute, windowMs: minute }),
    webhookLimiter: new RateLimiter({ max: access.webhookRateLimitPerMinute, windowMs: minute }),
  };
}

/** Repositories, workers and services of one api-server, wired to each other. */
export function compose(deps: ApiDeps, options: ApiOptions, logger: Logger): Composition {
  const box = new SecretBox(options.access.envEncryptionKey);
  const repos = createRepos(deps, box);
  const metrics = createApiMetrics({ deployments: repos.deployments });
  const git: GitHolder = { app: options.github?.app ? new GithubApp(options.github.app) : null };
  const workers = createWorkers(deps, options, repos, metrics, box, logger, git);
  const services = createServices(deps, options, repos, workers, box, logger, git);
  return { repos, workers, services, metrics };
}
