import {
  createLogStore,
  createProjectDataStore,
  createRequestLogStore,
  type LogStore,
  type ProjectDataStore,
  type RequestLogStore,
} from '@platform/clickhouse';
import type { Logger } from '@platform/logger';
import { AnalyticsService } from './analytics/analytics-service.ts';
import type { ApiDeps, ApiOptions } from './api-options.ts';
import { AuthService } from './auth/auth-service.ts';
import { UsersRepo } from './auth/auth-repo.ts';
import { SecretBox } from './crypto/secret-box.ts';
import { DataLifecycleRepo } from './data-lifecycle/data-lifecycle-repo.ts';
import { createDataLifecycle, type DataLifecycle } from './data-lifecycle/index.ts';
import type { DataLifecycleSettings } from './data-lifecycle/retention.ts';
import { StorageMeter, StorageQuota } from './data-lifecycle/storage-usage.ts';
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
import { RateLimiter } from './http/rate-limit.ts';
import { composeDomains } from './domains/compose-domains.ts';
import type { CertificatesWorker } from './domains/certificates-worker.ts';
import type { DomainsRepo } from './domains/domains-repo.ts';
import type { DomainsService } from './domains/domains-service.ts';
import { GithubApp } from './github/github-app.ts';
import { GithubRepo } from './github/github-repo.ts';
import { GithubReporter } from './github/github-reporter.ts';
import { GitService } from './github/github-service.ts';
import { createApiMetrics, type ApiMetrics } from './metrics.ts';
import { Notifier } from './notifications/notifier.ts';
import { NotificationsRepo } from './notifications/notifications-repo.ts';
import { NotificationsService } from './notifications/notifications-service.ts';
import { ProjectsRepo } from './projects/projects-repo.ts';
import { ProjectsService } from './projects/projects-service.ts';
import { UploadsRepo } from './uploads/uploads-repo.ts';
import { DEFAULT_UPLOAD_LIMITS, UploadsService } from './uploads/uploads-service.ts';
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
  logStore: LogStore;
  requestLogs: RequestLogStore;
  dataLifecycle: DataLifecycleRepo;
  projectData: ProjectDataStore;
  domains: DomainsRepo;
  github: GithubRepo;
}

/** The background loops; `createApiServer` starts and stops them. */
export interface Workers {
  lifecycle: DeploymentLifecycle;
  scheduler: Scheduler;
  reconciler: Reconciler;
  notifier: Notifier;
  /** Background deletions, retention, cache eviction, storage measuring. */
  dataLifecycle: DataLifecycle['worker'];
  /** Proves custom domains and orders their certificates; null when domains are not configured. */
  certificates: CertificatesWorker | null;
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
  analytics: AnalyticsService;
  uploads: UploadsService;
  routes: RoutePublisher;
  dataLifecycle: DataLifecycle['service'];
  domains: DomainsService;
  /** What a custom domain's CNAME may point at (shown with its DNS records). */
  domainCnameTarget: string;
  git: GitService;
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

function createRepos(deps: ApiDeps, box: SecretBox, shared: { projects: ProjectsRepo; domains: DomainsRepo }): Repos {
  return {
    users: new UsersRepo(deps.db),
    projects: shared.projects,
    deployments: new DeploymentsRepo(deps.db),
    envVars: new EnvVarsRepo(deps.db, box),
    notifications: new NotificationsRepo(deps.db),
    webhooks: new WebhooksRepo(deps.db),
    logStore: createLogStore(deps.clickhouse),
    requestLogs: createRequestLogStore(deps.clickhouse),
    dataLifecycle: new DataLifecycleRepo(deps.db),
    projectData: createProjectDataStore(deps.clickhouse),
    domains: shared.domains,
    github: new GithubRepo(deps.db),
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

function createWorkers(
  deps: ApiDeps,
  options: ApiOptions,
  repos: Repos,
  metrics: ApiMetrics,
  box: SecretBox,
  logger: Logger,
  git: GitHolder,
): Omit<Workers, 'dataLifecycle' | 'certificates'> {
  const { deployments, projects } = repos;
  const history = clickHouseEventHistory(deps.clickhouse);
  let scheduler: Scheduler | undefined;
  const lifecycle = new DeploymentLifecycle({
    deployments,
    runner: deps.runner,
    bus: deps.bus,
    history,
    logger: logger.child({ component: 'lifecycle' }),
    ...(options.buildEventsSigningSecret ? { eventSigningSecret: options.buildEventsSigningSecret } : {}),
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
  const meter = new StorageMeter({ repo: repos.dataLifecycle, store: deps.store, projectData: repos.projectData });
  const quota = new StorageQuota({ meter, quotaBytes: dataLifecycleSettings(options).storageQuotaBytes });
  scheduler = new Scheduler(
    {
      deployments,
      projects,
      runner: deps.runner,
      lifecycle,
      ...(deps.uploadCredentials ? { uploadCredentials: deps.uploadCredentials } : {}),
      logger: logger.child({ component: 'scheduler' }),
      events: { launchFailed: (_row, retryable) => metrics.launchFailures.inc({ retryable: String(retryable) }) },
      // Production builds get the production variables, every other build the preview ones.
      // A fork's pull request (a stranger's code, approved to build) gets none.
      resolveBuildEnv: async (project, deployment) => ((await git.service?.isForkBuild(deployment.id)) ? {} : envVars.resolve(project.id, deployment.target)),
      resolveGitAccess: async (project, deployment) => (git.service ? git.service.buildAccess(project, deployment) : {}),
      refusal: (project) => quota.refusal(project),
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

function createServices(
  deps: ApiDeps,
  options: ApiOptions,
  repos: Repos,
  workers: Omit<Workers, 'dataLifecycle' | 'certificates'>,
  box: SecretBox,
  logger: Logger,
  holder: GitHolder,
): { services: Omit<Services, 'domains' | 'domainCnameTarget'>; dataLifecycleWorker: Workers['dataLifecycle'] } {
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
  const dataLifecycle = createDataLifecycle({
    repo: repos.dataLifecycle,
    projectData: repos.projectData,
    store: deps.store,
    routes,
    deployments,
    urls,
    logger: logger.child({ component: 'data-lifecycle' }),
    options: { ...dataLifecycleSettings(options), ...options.dataLifecycle },
  });
  const services: Omit<Services, 'domains' | 'domainCnameTarget'> = {
    auth: new AuthService({ users: repos.users, jwtSecret: access.jwtSecret, accessTokenTtlSeconds: access.accessTokenTtlSeconds, signup: access.signup }),
    projects: new ProjectsService({
      projects: repos.projects,
      deployments,
      box,
      localGitRoots: options.localGitRoots,
      onDeleting: () => dataLifecycle.worker.kick(),
    }),
    deployments,
    envVars: new EnvVarsService(repos.envVars),
    notifications: new NotificationsService({ notifications: repos.notifications, box, allowPrivateUrls: access.allowPrivateWebhookUrls }),
    webhooks: new WebhooksService({ webhooks: repos.webhooks, projects: repos.projects, deployer, box, logger, git }),
    git,
    analytics: new AnalyticsService({ requestLogs: repos.requestLogs }),
    uploads: uploadsService(deps, options, repos, workers, logger),
    routes,
    dataLifecycle: dataLifecycle.service,
    loginLimiters: {
      account: new RateLimiter({ max: access.loginRateLimitPerMinute, windowMs: minute }),
      address: new RateLimiter({ max: access.loginAddressRateLimitPerMinute, windowMs: minute }),
    },
    signupLimiter: new RateLimiter({ max: access.signupRateLimitPerMinute, windowMs: minute }),
    webhookLimiter: new RateLimiter({ max: access.webhookRateLimitPerMinute, windowMs: minute }),
  };
  return { services, dataLifecycleWorker: dataLifecycle.worker };
}

/** Direct uploads (the CLI): content into the project's namespace, then a deployment from a manifest. */
function uploadsService(
  deps: ApiDeps,
  options: ApiOptions,
  repos: Repos,
  workers: Omit<Workers, 'dataLifecycle' | 'certificates'>,
  logger: Logger,
): UploadsService {
  return new UploadsService({
    uploads: new UploadsRepo(deps.store),
    deployments: repos.deployments,
    lifecycle: workers.lifecycle,
    bus: deps.bus,
    limits: options.uploads ?? DEFAULT_UPLOAD_LIMITS,
    logger: logger.child({ component: 'uploads' }),
  });
}

/** Retention defaults and quota: the options', else the config's defaults (a harness may leave them out). */
function dataLifecycleSettings(options: ApiOptions): DataLifecycleSettings {
  return {
    defaults: options.dataLifecycle?.defaults ?? { keepPerBranch: 10, keepRollback: 5, failedAfterDays: 7, buildCacheCapBytes: 2 * 1024 ** 3 },
    storageQuotaBytes: options.dataLifecycle?.storageQuotaBytes ?? null,
  };
}

/** Repositories, workers and services of one api-server, wired to each other. */
export function compose(deps: ApiDeps, options: ApiOptions, logger: Logger): Composition {
  const box = new SecretBox(options.access.envEncryptionKey);
  const projects = new ProjectsRepo(deps.db);
  const domains = composeDomains(
    {
      db: deps.db,
      store: deps.store,
      projects,
      notifications: new NotificationsRepo(deps.db),
      urls: options.urls,
      rootDomain: options.urls.rootDomain,
      logger,
    },
    options.domains,
  );
  const repos = createRepos(deps, box, { projects, domains: domains.repo });
  const metrics = createApiMetrics({ deployments: repos.deployments, storageUsage: repos.dataLifecycle });
  const git: GitHolder = { app: options.github?.app ? new GithubApp(options.github.app) : null };
  const loops = createWorkers(deps, options, repos, metrics, box, logger, git);
  const { services, dataLifecycleWorker } = createServices(deps, options, repos, loops, box, logger, git);
  return {
    repos,
    workers: { ...loops, dataLifecycle: dataLifecycleWorker, certificates: domains.worker },
    services: { ...services, domains: domains.service, domainCnameTarget: domains.cnameTarget },
    metrics,
  };
}
