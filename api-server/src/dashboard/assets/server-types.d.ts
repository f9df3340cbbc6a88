// What the dashboard knows about the server, in one place: the entities and enums come from
// @platform/contracts (the schemas the API validates and presents with), so a change there
// breaks `npm run typecheck` here instead of a page in production. Type-only: the browser
// never loads this file (dashboard.ts serves no .ts), and JSDoc imports of it are erased.

import type { z } from 'zod';
import type * as C from '@platform/contracts';

export type {
  ApiToken,
  BuildEvent,
  DeployHook,
  Deployment,
  Domain,
  DeploymentStatus,
  EnvTarget,
  EnvVar,
  GithubDelivery,
  LogEvent,
  LogLine,
  NotificationEndpoint,
  Project,
  ProjectAnalytics,
  Retention,
  StorageUsage,
  Session,
  StatusEvent,
  User,
} from '@platform/contracts';

// ---- REST --------------------------------------------------------------------------------

/**
 * What each method of a path takes and answers. The envelopes (`{ project }`, `{ envVars }`,
 * ...) are the routes' own; what is inside them is the contracts'. A request body is the
 * schema's input (defaults may be left out), as a client sends it.
 */
export interface Methods {
  GET?: unknown;
  POST?: { body: unknown; reply: unknown };
  PATCH?: { body: unknown; reply: unknown };
  PUT?: { body: unknown; reply: unknown };
  DELETE?: unknown;
}

declare const methods: unique symbol;
/**
 * A REST path that carries its `Methods` as a phantom type: `get(paths.project(id))` is typed
 * `{ project: Project }` and `post(paths.envVars(id), body)` checks the body. Still a plain
 * string at run time.
 */
export type Endpoint<M extends Methods> = string & { readonly [methods]?: M };

type Body<S extends z.ZodType> = z.input<S>;
type Post<S extends z.ZodType | undefined, R> = { body: S extends z.ZodType ? Body<S> : Record<string, never>; reply: R };

/** What `post()` sends to an endpoint of `Api`, for a page that builds the body in steps. */
export type PostBody<N extends keyof Api> = Api[N] extends { POST: { body: infer B } } ? B : never;

export interface GithubWebhookSecret {
  url: string;
  secret: string;
}

export interface Api {
  signup: { POST: Post<typeof C.signupBodySchema, C.Session> };
  login: { POST: Post<typeof C.loginBodySchema, C.Session> };
  me: { GET: { user: C.User } };
  apiTokens: { GET: { tokens: C.ApiToken[] }; POST: Post<typeof C.createApiTokenBodySchema, { token: C.ApiToken; secret: string }> };
  apiToken: { DELETE: { token: C.ApiToken } };
  projects: { GET: { projects: C.Project[] }; POST: Post<typeof C.createProjectBodySchema, { project: C.Project; githubWebhook: GithubWebhookSecret }> };
  project: { GET: { project: C.Project }; PATCH: Post<typeof C.updateProjectBodySchema, { project: C.Project }>; DELETE: undefined };
  deploy: { POST: Post<typeof C.createDeploymentBodySchema, { deployment: C.Deployment }> };
  deployments: { GET: { deployments: C.Deployment[]; next: string | null } };
  deployment: { GET: { deployment: C.Deployment } };
  deploymentLogs: { GET: { deploymentId: string; status: C.DeploymentStatus; lines: C.LogLine[] } };
  cancel: { POST: Post<typeof C.cancelDeploymentBodySchema, { deployment: C.Deployment }> };
  redeploy: { POST: Post<typeof C.redeployBodySchema, { deployment: C.Deployment }> };
  promote: { POST: Post<undefined, { deployment: C.Deployment; productionUrl: string }> };
  envVars: { GET: { envVars: C.EnvVar[] }; POST: Post<typeof C.createEnvVarBodySchema, { envVars: C.EnvVar[] }> };
  envVar: { DELETE: undefined };
  deployHooks: { GET: { hooks: C.DeployHook[] }; POST: Post<typeof C.createDeployHookBodySchema, { hook: C.DeployHook; url: string }> };
  deployHook: { DELETE: undefined };
  notifications: {
    GET: { endpoints: C.NotificationEndpoint[] };
    POST: Post<typeof C.createNotificationEndpointBodySchema, { endpoint: C.NotificationEndpoint; secret: string }>;
  };
  notification: { DELETE: undefined };
  githubWebhookSecret: { POST: Post<undefined, { githubWebhook: GithubWebhookSecret }> };
  githubDeliveries: { GET: { deliveries: C.GithubDelivery[] } };
  analytics: { GET: { analytics: C.ProjectAnalytics } };
  retention: { GET: { retention: C.Retention }; PATCH: Post<typeof C.updateRetentionBodySchema, { retention: C.Retention }> };
  usage: { GET: { usage: C.StorageUsage } };
  domains: { GET: { domains: C.Domain[] }; POST: Post<typeof C.createDomainBodySchema, { domain: C.Domain }> };
  domain: { GET: { domain: C.Domain }; DELETE: undefined };
  domainVerify: { POST: Post<undefined, { domain: C.Domain }> };
  githubApp: { GET: C.GithubAppInfo };
  githubInstallations: {
    GET: { installations: C.GithubInstallation[] };
    POST: Post<typeof C.connectInstallationBodySchema, { installation: C.GithubInstallation }>;
  };
  githubRepositories: { GET: { repositories: C.GithubRepository[] } };
  projectGithub: { GET: { github: C.GithubLink | null }; PUT: Post<typeof C.linkGithubRepositoryBodySchema, { github: C.GithubLink }>; DELETE: undefined };
  gitCredentials: {
    GET: { credentials: C.GitCredentials };
    PUT: Post<typeof C.setGitCredentialsBodySchema, { credentials: C.GitCredentials }>;
    DELETE: undefined;
  };
  pullRequests: { GET: { pullRequests: C.PullRequest[] } };
  approvePullRequest: { POST: Post<undefined, { deployment: C.Deployment }> };
}

/** `GET /platform` (public): whether builds are sandboxed; the api-server composes it, not a schema. */
export interface PlatformInfo {
  builds: { sandboxed: boolean; summary: string; problems: string[] };
  signup: unknown;
}

// ---- live logs (socket.io) ---------------------------------------------------------------
//
// The socket protocol is not in @platform/contracts yet; until it is, its payloads are
// derived here from the build-event schemas the server forwards. When contracts exports the
// typed event maps, these two interfaces become aliases of them and nothing else changes.

/** A `log` event: a build event's line, tagged with its deployment. */
export type LiveLogLine = Pick<C.LogEvent, 'deploymentId' | 'seq' | 'ts' | 'stream' | 'message'>;
/** A `status` event; `seq` is the build event's (0 for the status a subscribe reply carries). */
export type LiveStatus = Pick<C.StatusEvent, 'deploymentId' | 'seq' | 'status' | 'detail'>;
export type SubscribeReply = { ok: true; status: C.DeploymentStatus } | { ok: false; error: string };

/** Events the server sends. */
export interface LiveLogServerEvents {
  log: (event: LiveLogLine) => void;
  status: (event: LiveStatus) => void;
  'stream-error': (event: { deploymentId: string; message: string }) => void;
}

/** Events the dashboard sends. */
export interface LiveLogClientEvents {
  subscribe: (request: { deploymentId: string; afterSeq: number }, ack: (reply: SubscribeReply) => void) => void;
  unsubscribe: (request: { deploymentId: string }) => void;
}
