import express, { type Express, type Router } from 'express';
import type { Logger } from '@platform/logger';
import { analyticsRoutes } from './analytics/routes.ts';
import type { ApiOptions } from './api-options.ts';
import { requireUser } from './auth/require-user.ts';
import { authRoutes } from './auth/routes.ts';
import type { Composition } from './composition.ts';
import { dashboardRoutes } from './dashboard/dashboard.ts';
import { dataLifecycleRoutes } from './data-lifecycle/routes.ts';
import { requireOwnedDeployment } from './deployments/access.ts';
import { deploymentRoutes } from './deployments/routes.ts';
import { domainRoutes } from './domains/routes.ts';
import { envVarRoutes } from './env-vars/routes.ts';
import { githubAccountRoutes, projectGitRoutes } from './github/routes.ts';
import { errorHandler, refuseNulInUrl, unknownRoute } from './http/errors.ts';
import { methodNotAllowed, pathsOf } from './http/method-not-allowed.ts';
import { openApiDocument, UNDOCUMENTED_PATHS } from './http/openapi.ts';
import { requestId, requestLog } from './http/request-id.ts';
import { trustProxy } from './http/trust-proxy.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { requireOwnedProject } from './projects/access.ts';
import { projectRoutes } from './projects/routes.ts';
import { manifestBodyParser, uploadRoutes } from './uploads/routes.ts';
import { deployHookReceiver, githubReceiver, webhookOwnerRoutes } from './webhooks/routes.ts';

/** What needs no user: health, metrics, the dashboard's pages, the spec, the webhooks, sign-in. */
function mountPublic(app: Express, c: Composition, options: ApiOptions, isolation: NonNullable<ApiOptions['isolation']>): void {
  const { services } = c;
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // Prometheus scrapes without a user token; keep /metrics on a private network.
  app.get('/metrics', c.metrics.handler);
  // The web dashboard's static pages: public (they call the API with the user's token).
  app.use(dashboardRoutes());
  const openapi = openApiDocument({ localGitRoots: options.localGitRoots });
  // Another method on a known path is a 405 naming the allowed ones, before authentication.
  app.use(methodNotAllowed([...pathsOf(openapi), ...UNDOCUMENTED_PATHS]));
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  // Signed over the raw bytes: mounted before the JSON parser.
  app.use(githubReceiver({ webhooks: services.webhooks, limiter: services.webhookLimiter }));
  // Deployment manifests from the CLI are larger: parsed first, for signed-in callers only.
  app.use(manifestBodyParser(requireUser(services.auth)));
  // Room for the largest valid body: a 32,768-character env var value, each character an
  // escaped surrogate pair (12 bytes).
  app.use(express.json({ limit: '512kb' }));
  app.use(deployHookReceiver({ webhooks: services.webhooks, limiter: services.webhookLimiter }));
  // Public: the dashboard shows a banner when builds run unsandboxed (single-user mode).
  app.get('/platform', (_req, res) => {
    res.json({ builds: { sandboxed: !isolation.singleUser, summary: isolation.summary, problems: isolation.problems }, signup: options.access.signup });
  });
}

/** Everything below needs a signed-in user; everything under a project or deployment id, its owner. */
function mountOwned(app: Express, c: Composition, logsRoutes: Router, options: ApiOptions): void {
  const { repos, services } = c;
  const signedIn = requireUser(services.auth);
  app.use(authRoutes({ auth: services.auth, requireUser: signedIn, loginLimiters: services.loginLimiters, signupLimiter: services.signupLimiter }));
  app.use(signedIn);
  app.use('/projects/:projectId', requireOwnedProject(repos.projects));
  app.use('/deployments/:deploymentId', requireOwnedDeployment(repos.projects, repos.deployments));
  // The build log (live-logs/): behind the deployment-owner guard above.
  app.use(logsRoutes);
  app.use(projectRoutes({ projects: services.projects, urls: options.urls, localGitRoots: options.localGitRoots }));
  app.use(deploymentRoutes({ deployments: services.deployments, projects: services.projects, urls: options.urls }));
  app.use(envVarRoutes({ envVars: services.envVars }));
  app.use(uploadRoutes({ uploads: services.uploads, urls: options.urls }));
  app.use(webhookOwnerRoutes({ webhooks: services.webhooks }));
  app.use(notificationRoutes({ notifications: services.notifications }));
  app.use(githubAccountRoutes({ git: services.git }));
  app.use(projectGitRoutes({ git: services.git, urls: options.urls }));
  app.use(analyticsRoutes({ analytics: services.analytics }));
  app.use(dataLifecycleRoutes({ dataLifecycle: services.dataLifecycle }));
  app.use(domainRoutes({ domains: services.domains, cnameTarget: services.domainCnameTarget }));
}

/** The HTTP surface: request ids and logging, the public routes, the owned routes, one error middleware. */
export function createApp(c: Composition, logsRoutes: Router, options: ApiOptions, isolation: NonNullable<ApiOptions['isolation']>, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-For is believed only from the platform's own proxy (TRUST_PROXY): req.ip.
  app.set('trust proxy', trustProxy(options.access.trustProxy.addresses, options.access.trustProxy.hops));
  app.use(requestId);
  app.use(requestLog(logger.child({ component: 'http' })));
  app.use(refuseNulInUrl);
  mountPublic(app, c, options, isolation);
  mountOwned(app, c, logsRoutes, options);
  app.use(unknownRoute);
  app.use(errorHandler(logger));
  return app;
}
