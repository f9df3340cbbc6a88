import { z } from 'zod';
import * as c from '@platform/contracts';
import type { KnownPath } from './method-not-allowed.ts';

type Auth = 'bearer' | 'none' | 'github-signature';

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  auth?: Auth;
  /** The schema the route parses its body with; the body is required unless the schema has a default. */
  body?: z.ZodType;
  /** The schema the route parses its query with. */
  query?: z.ZodObject;
  /** Path parameters with a format of their own (default: any string). */
  params?: Record<string, z.ZodType>;
  /** Path parameters that are positive integers (a GitHub installation id, a pull request number); the rest are strings. */
  integerParams?: Record<string, number>;
  /** Success status → response body schema (null: no body). */
  responses: Record<number, z.ZodType | null>;
  /** Error statuses beyond the ones every operation of its kind has (see `errorStatuses`). */
  errors?: number[];
  /** Rate limited: 429 with Retry-After. */
  limited?: boolean;
  /** The success response may also be plain text (a download). */
  text?: boolean;
}

/** Pull request numbers are stored as 32-bit integers. */
const MAX_PULL_REQUEST_NUMBER = 2_147_483_647;

const obj = (shape: z.ZodRawShape) => z.object(shape);
const session = c.sessionSchema;
const projectOut = obj({ project: c.projectSchema });
const deploymentOut = obj({ deployment: c.deploymentSchema });
const webhookSecret = obj({ githubWebhook: obj({ url: z.string(), secret: z.string() }) });
/** What processing one GitHub delivery for one project gave (a duplicate may carry only the first two fields). */
const deliveryResult = c.githubDeliverySchema.partial().extend({ projectId: z.string(), duplicate: z.boolean() });

/** Accounts, sessions and API tokens. */
const AUTH_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/auth/signup',
    summary: 'Create an account; returns an access token',
    auth: 'none',
    body: c.signupBodySchema,
    responses: { 201: session },
    errors: [403, 409],
    limited: true,
  },
  {
    method: 'post',
    path: '/auth/login',
    summary: 'Sign in with email and password (rate limited)',
    auth: 'none',
    body: c.loginBodySchema,
    responses: { 200: session },
    errors: [401],
    limited: true,
  },
  {
    method: 'post',
    path: '/auth/logout',
    summary:
      'Sign out: revoke the credential this request carries (the session of an access token, or the API token); open live-log sockets using it are disconnected',
    responses: { 204: null },
  },
  {
    method: 'get',
    path: '/auth/sessions',
    summary: "The signed-in user's sessions that have not expired",
    responses: { 200: obj({ sessions: z.array(c.signInSessionSchema) }) },
  },
  {
    method: 'delete',
    path: '/auth/sessions/{sessionId}',
    summary: 'Sign a session out: its access tokens stop working at once, its live-log sockets are disconnected',
    responses: { 200: obj({ session: c.signInSessionSchema }) },
  },
  { method: 'get', path: '/auth/me', summary: 'The signed-in user', responses: { 200: obj({ user: c.userSchema }) } },
  {
    method: 'post',
    path: '/auth/tokens',
    summary: 'Create an API token (its secret is shown once)',
    body: c.createApiTokenBodySchema,
    responses: { 201: obj({ token: c.apiTokenSchema, secret: z.string() }) },
  },
  { method: 'get', path: '/auth/tokens', summary: 'List API tokens', responses: { 200: obj({ tokens: z.array(c.apiTokenSchema) }) } },
  { method: 'delete', path: '/auth/tokens/{tokenId}', summary: 'Revoke an API token', responses: { 200: obj({ token: c.apiTokenSchema }) } },
];

/** Projects: their bodies follow the operator's local-git policy, so the document is made per server. */
const projectOperations = (projectBodies: ReturnType<typeof c.projectBodySchemas>): Operation[] => [
  {
    method: 'post',
    path: '/projects',
    summary: 'Create a project (also POST /project)',
    body: projectBodies.create,
    responses: { 201: projectOut.extend(webhookSecret.shape) },
    errors: [409],
  },
  { method: 'get', path: '/projects', summary: 'List your projects', responses: { 200: obj({ projects: z.array(c.projectSchema) }) } },
  { method: 'get', path: '/projects/{projectId}', summary: 'Get a project', responses: { 200: projectOut } },
  {
    method: 'patch',
    path: '/projects/{projectId}',
    summary: 'Update a project (null clears a build setting)',
    body: projectBodies.update,
    responses: { 200: projectOut },
  },
  {
    method: 'delete',
    path: '/projects/{projectId}',
    summary: 'Delete a project: its hostnames stop serving at once; files, caches, logs and settings are removed in the background',
    responses: { 204: null },
  },
];

/** Deployments and their build logs. */
const DEPLOYMENT_OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/projects/{projectId}/deployments',
    summary: 'List deployments, newest first',
    query: c.listDeploymentsQuerySchema,
    responses: { 200: obj({ deployments: z.array(c.deploymentSchema), next: z.string().nullable() }) },
  },
  {
    method: 'post',
    path: '/deploy',
    summary: 'Deploy a project (production branch, or a ref or commit)',
    body: c.createDeploymentBodySchema,
    responses: { 202: deploymentOut },
    errors: [404],
  },
  { method: 'get', path: '/deployments/{deploymentId}', summary: 'Get a deployment', responses: { 200: deploymentOut } },
  {
    method: 'get',
    path: '/deployments/{deploymentId}/logs',
    summary: 'The build log, in order, a page at a time (also GET …/logs.txt, as text)',
    query: c.logsQuerySchema,
    responses: { 200: c.logsPageSchema },
    text: true,
  },
  {
    method: 'post',
    path: '/deployments/{deploymentId}/cancel',
    summary: 'Cancel a queued or building deployment',
    body: c.cancelDeploymentBodySchema,
    responses: { 202: deploymentOut },
    errors: [409],
  },
  {
    method: 'post',
    path: '/deployments/{deploymentId}/redeploy',
    summary: 'Build the same commit again, optionally without the build cache',
    body: c.redeployBodySchema,
    responses: { 202: deploymentOut },
  },
  {
    method: 'post',
    path: '/deployments/{deploymentId}/promote',
    summary: 'Serve a READY deployment at the production hostname (instant rollback)',
    responses: { 200: deploymentOut.extend({ productionUrl: z.string() }) },
    errors: [409],
  },
];

/** Direct uploads: the CLI's `deploy` (a folder, no build). */
const UPLOAD_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/projects/{projectId}/uploads/missing',
    summary: 'Which of these contents (sha256 and size) the project has not stored: upload those',
    body: c.uploadCheckBodySchema,
    responses: { 200: c.uploadCheckResultSchema },
  },
  {
    method: 'post',
    path: '/projects/{projectId}/uploads/{hash}',
    params: { hash: c.contentHashParamSchema },
    summary:
      'Store one content: the raw request body (any content type), refused unless its sha256 is {hash}; ?path=<file path> makes brotli/gzip variants of text types. 201 stored, 200 already there',
    responses: { 201: c.uploadedContentSchema, 200: c.uploadedContentSchema },
    errors: [409, 413],
  },
  {
    method: 'post',
    path: '/projects/{projectId}/deployments/upload',
    summary: 'Deploy uploaded files (path → sha256, vercel.json honoured as in a build); READY once its events are applied',
    body: c.directDeploymentBodySchema,
    responses: { 202: deploymentOut },
    errors: [409, 413],
  },
];

/** Build-time environment variables. */
const ENV_VAR_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/projects/{projectId}/env',
    summary: 'Add an env var (encrypted; its value is never returned)',
    body: c.createEnvVarBodySchema,
    responses: { 201: obj({ envVars: z.array(c.envVarSchema) }) },
    errors: [409],
  },
  {
    method: 'get',
    path: '/projects/{projectId}/env',
    summary: 'List env vars (without values)',
    responses: { 200: obj({ envVars: z.array(c.envVarSchema) }) },
  },
  {
    method: 'patch',
    path: '/projects/{projectId}/env/{envId}',
    summary: 'Change an env var value',
    body: c.updateEnvVarBodySchema,
    responses: { 200: obj({ envVar: c.envVarSchema }) },
  },
  { method: 'delete', path: '/projects/{projectId}/env/{envId}', summary: 'Delete an env var', responses: { 204: null } },
];

/** Incoming webhooks: GitHub pushes and deploy hooks. */
const WEBHOOK_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/projects/{projectId}/github-webhook/secret',
    summary: 'Rotate the GitHub webhook secret (shown once)',
    responses: { 200: webhookSecret },
  },
  {
    method: 'get',
    path: '/projects/{projectId}/github-webhook/deliveries',
    summary: 'Recent GitHub deliveries',
    responses: { 200: obj({ deliveries: z.array(c.githubDeliverySchema) }) },
  },
  {
    method: 'post',
    path: '/projects/{projectId}/github-webhook/deliveries/{deliveryId}/redeliver',
    summary: 'Process a stored delivery again',
    responses: { 200: obj({ result: deliveryResult }), 202: obj({ result: deliveryResult }) },
  },
  {
    method: 'post',
    path: '/webhooks/github',
    summary: 'GitHub webhook receiver (X-Hub-Signature-256 required)',
    auth: 'github-signature',
    responses: {
      200: obj({ deliveryId: z.string(), results: z.array(deliveryResult) }),
      202: obj({ deliveryId: z.string(), results: z.array(deliveryResult) }),
    },
    limited: true,
  },
  {
    method: 'post',
    path: '/projects/{projectId}/deploy-hooks',
    summary: 'Create a deploy hook (its URL is shown once)',
    body: c.createDeployHookBodySchema,
    responses: { 201: obj({ hook: c.deployHookSchema, url: z.string() }) },
  },
  { method: 'get', path: '/projects/{projectId}/deploy-hooks', summary: 'List deploy hooks', responses: { 200: obj({ hooks: z.array(c.deployHookSchema) }) } },
  { method: 'delete', path: '/projects/{projectId}/deploy-hooks/{hookId}', summary: 'Delete a deploy hook', responses: { 204: null } },
  {
    method: 'post',
    path: '/deploy-hooks/{secret}',
    summary: 'Trigger a deploy hook',
    auth: 'none',
    responses: { 202: obj({ job: obj({ deploymentId: z.string(), projectId: z.string(), ref: z.string(), state: c.deploymentStatusSchema }) }) },
    limited: true,
  },
];

/** Outgoing deployment notifications. */
const NOTIFICATION_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/projects/{projectId}/notifications',
    summary: 'Add a notification endpoint (signing secret shown once)',
    body: c.createNotificationEndpointBodySchema,
    responses: { 201: obj({ endpoint: c.notificationEndpointSchema, secret: z.string() }) },
    errors: [409],
  },
  {
    method: 'get',
    path: '/projects/{projectId}/notifications',
    summary: 'List notification endpoints',
    responses: { 200: obj({ endpoints: z.array(c.notificationEndpointSchema) }) },
  },
  {
    method: 'get',
    path: '/projects/{projectId}/notifications/{endpointId}/deliveries',
    summary: 'Recent notification deliveries',
    responses: { 200: obj({ deliveries: z.array(c.notificationDeliverySchema) }) },
  },
  { method: 'delete', path: '/projects/{projectId}/notifications/{endpointId}', summary: 'Delete a notification endpoint', responses: { 204: null } },
];

/** The git integration: the GitHub App, a project's repository and git credentials, pull requests. */
const GIT_OPERATIONS: Operation[] = [
  { method: 'get', path: '/github/app', summary: 'Whether a GitHub App is configured, and its install link', responses: { 200: c.githubAppInfoSchema } },
  {
    method: 'post',
    path: '/github/installations',
    summary: "Connect an installation of the GitHub App (GitHub's setup redirect: installation id and the user's sign-in code)",
    body: c.connectInstallationBodySchema,
    responses: { 201: obj({ installation: c.githubInstallationSchema }) },
    errors: [403, 409],
  },
  {
    method: 'get',
    path: '/github/installations',
    summary: "The signed-in user's connected installations",
    responses: { 200: obj({ installations: z.array(c.githubInstallationSchema) }) },
  },
  {
    method: 'get',
    path: '/github/installations/{installationId}/repositories',
    summary: 'The repositories an installation gives the App',
    integerParams: { installationId: Number.MAX_SAFE_INTEGER },
    responses: { 200: obj({ repositories: z.array(c.githubRepositorySchema) }) },
    errors: [409],
  },
  {
    method: 'put',
    path: '/projects/{projectId}/github',
    summary: "Build the project from a repository of one of the user's installations (its git URL becomes the repository's)",
    body: c.linkGithubRepositoryBodySchema,
    responses: { 200: obj({ github: c.githubLinkSchema }) },
    errors: [409],
  },
  {
    method: 'get',
    path: '/projects/{projectId}/github',
    summary: "The project's GitHub repository, if linked",
    responses: { 200: obj({ github: c.githubLinkSchema.nullable() }) },
  },
  { method: 'delete', path: '/projects/{projectId}/github', summary: 'Unlink the GitHub repository (none linked: nothing to do)', responses: { 204: null } },
  {
    method: 'put',
    path: '/projects/{projectId}/git-credentials',
    summary: 'Set the clone credential for another git host: an HTTPS token, or a generated SSH deploy key (public half returned)',
    body: c.setGitCredentialsBodySchema,
    responses: { 200: obj({ credentials: c.gitCredentialsSchema }) },
  },
  {
    method: 'get',
    path: '/projects/{projectId}/git-credentials',
    summary: "The clone credential's kind (never its secret) and a deploy key's public half; null when none is set",
    responses: { 200: obj({ credentials: c.gitCredentialsSchema.nullable() }) },
  },
  {
    method: 'delete',
    path: '/projects/{projectId}/git-credentials',
    summary: 'Remove the clone credential (none set: nothing to do)',
    responses: { 204: null },
  },
  {
    method: 'get',
    path: '/projects/{projectId}/pull-requests',
    summary: 'Pull requests seen by the webhooks, with their preview alias and any fork build awaiting approval',
    responses: { 200: obj({ pullRequests: z.array(c.pullRequestSchema) }) },
  },
  {
    method: 'post',
    path: '/projects/{projectId}/pull-requests/{number}/approve',
    summary: "Approve the build of a fork's pull request (its head commit, without the project's env vars)",
    integerParams: { number: MAX_PULL_REQUEST_NUMBER },
    responses: { 202: deploymentOut },
    errors: [409],
  },
];

/** Custom domains: proved in DNS, served by the proxy, certified over ACME. */
const domainOut = obj({ domain: c.domainSchema });
const DOMAIN_OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/projects/{projectId}/domains',
    summary: 'Add a custom domain (pending until its DNS proves it; then certified over ACME)',
    body: c.createDomainBodySchema,
    responses: { 201: domainOut },
    errors: [409],
  },
  {
    method: 'get',
    path: '/projects/{projectId}/domains',
    summary: "The project's custom domains",
    responses: { 200: obj({ domains: z.array(c.domainSchema) }) },
  },
  {
    method: 'get',
    path: '/projects/{projectId}/domains/{hostname}',
    summary: 'One custom domain: status, DNS records, certificate',
    responses: { 200: domainOut },
  },
  {
    method: 'post',
    path: '/projects/{projectId}/domains/{hostname}/verify',
    summary: 'Check DNS and order a certificate again now (after a failure)',
    responses: { 202: domainOut },
  },
  { method: 'delete', path: '/projects/{projectId}/domains/{hostname}', summary: 'Remove a custom domain and its certificate', responses: { 204: null } },
];

/** Deleting deployments, retention, storage usage (data-lifecycle/). */
const DATA_LIFECYCLE_OPERATIONS: Operation[] = [
  {
    method: 'delete',
    path: '/deployments/{deploymentId}',
    summary: 'Delete a finished deployment: its files, hostname, logs; 409 while an alias or domain serves it, or while it builds',
    responses: { 204: null },
    errors: [409],
  },
  {
    method: 'get',
    path: '/projects/{projectId}/retention',
    summary: 'The project’s retention: effective, its own settings, the defaults',
    responses: { 200: obj({ retention: c.retentionSchema }) },
  },
  {
    method: 'patch',
    path: '/projects/{projectId}/retention',
    summary: 'Change retention (null resets a setting to the platform default)',
    body: c.updateRetentionBodySchema,
    responses: { 200: obj({ retention: c.retentionSchema }) },
  },
  {
    method: 'get',
    path: '/projects/{projectId}/usage',
    summary: 'Bytes the project holds (deployments, build caches, logs), measured now, and its quota',
    responses: { 200: obj({ usage: c.storageUsageSchema }) },
  },
];

const operations = (projectBodies: ReturnType<typeof c.projectBodySchemas>): Operation[] => [
  ...AUTH_OPERATIONS,
  ...projectOperations(projectBodies),
  ...DEPLOYMENT_OPERATIONS,
  ...UPLOAD_OPERATIONS,
  ...ENV_VAR_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  ...NOTIFICATION_OPERATIONS,
  ...DATA_LIFECYCLE_OPERATIONS,
  ...DOMAIN_OPERATIONS,
  ...GIT_OPERATIONS,
];

/** Routes the document leaves out (aliases, downloads, probes); they too answer 405 to other methods. */
export const UNDOCUMENTED_PATHS: KnownPath[] = [
  { path: '/project', methods: ['POST'] },
  { path: '/deployments/{deploymentId}/logs.txt', methods: ['GET'] },
  { path: '/projects/{projectId}/analytics', methods: ['GET'] },
  { path: '/openapi.json', methods: ['GET'] },
  { path: '/healthz', methods: ['GET'] },
  { path: '/metrics', methods: ['GET'] },
  { path: '/platform', methods: ['GET'] },
];

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is malformed: a bad field, parameter or JSON body (details.issues names each)',
  401: 'Not signed in, or the token is invalid, expired or revoked',
  403: 'Not allowed here (sign-up closed)',
  404: 'No such resource, or not yours',
  409: 'Conflicts with the current state',
  413: 'The request body is too large',
  429: 'Too many requests; retry after Retry-After seconds',
};

/** Every error an operation can answer: 400 always (a NUL in the URL, bad JSON), the rest by what it takes. */
function errorStatuses(op: Operation): number[] {
  const statuses = new Set([400, ...(op.errors ?? [])]);
  if ((op.auth ?? 'bearer') !== 'none') statuses.add(401);
  if (op.path.includes('{')) statuses.add(404);
  if (op.body || op.auth === 'github-signature') statuses.add(413);
  if (op.limited) statuses.add(429);
  return [...statuses].sort();
}

/** JSON Schema of a zod schema. Integer query parameters arrive as text: documented as the integers they are. */
const schema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, {
    io,
    unrepresentable: 'any',
    target: 'openapi-3.0',
    override: ({ jsonSchema }) => {
      if (jsonSchema.type === 'integer') delete jsonSchema.pattern;
    },
  });

/**
 * The OpenAPI 3 document, generated from the same zod schemas the routes validate with (the
 * project bodies under this server's git URL policy).
 */
export function openApiDocument(options: { localGitRoots: readonly string[] }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorBody = { 'application/json': { schema: schema(c.errorBodySchema, 'output') } };
  for (const op of operations(c.projectBodySchemas({ localRoots: options.localGitRoots }))) {
    const params: Record<string, unknown>[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: op.params?.[m[1]!]
        ? schema(op.params[m[1]!]!, 'input')
        : op.integerParams?.[m[1]!]
          ? { type: 'integer', minimum: 1, maximum: op.integerParams[m[1]!] }
          : { type: 'string' },
    }));
    if (op.query) {
      const q = schema(op.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(q.properties ?? {})) params.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema: s });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, body] of Object.entries(op.responses)) {
      const content = {
        ...(body ? { 'application/json': { schema: schema(body, 'output') } } : {}),
        ...(op.text
          ? { 'text/plain': { schema: { type: 'string', description: 'format=text: one line per log line, `<ISO time> <stream> <message>`' } } }
          : {}),
      };
      responses[status] = { description: 'OK', ...(Object.keys(content).length ? { content } : {}) };
    }
    for (const status of errorStatuses(op)) {
      responses[status] = {
        description: `${ERROR_TEXT[status]}: { error: { code, message, details } }`,
        ...(status === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' } } } } : {}),
        content: errorBody,
      };
    }
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      ...(op.auth === 'none' || op.auth === 'github-signature' ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body
        ? { requestBody: { required: !op.body.safeParse(undefined).success, content: { 'application/json': { schema: schema(op.body, 'input') } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Deployment platform API', version: '1.0.0' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An access token from /auth/login or an API token (plt_...)' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
