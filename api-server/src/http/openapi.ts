import { z } from 'zod';
import * as c from '@platform/contracts';

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  summary: string;
  auth?: 'bearer' | 'none' | 'github-signature';
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Status → response body schema (null: no body). */
  responses: Record<number, z.ZodType | null>;
}

const obj = (shape: z.ZodRawShape) => z.object(shape);
const session = c.sessionSchema;
const projectOut = obj({ project: c.projectSchema });
const deploymentOut = obj({ deployment: c.deploymentSchema });
const webhookSecret = obj({ githubWebhook: obj({ url: z.string(), secret: z.string() }) });

const OPERATIONS: Operation[] = [
  { method: 'post', path: '/auth/signup', summary: 'Create an account; returns an access token', auth: 'none', body: c.signupBodySchema, responses: { 201: session, 409: null } },
  { method: 'post', path: '/auth/login', summary: 'Sign in with email and password (rate limited)', auth: 'none', body: c.loginBodySchema, responses: { 200: session, 401: null, 429: null } },
  { method: 'get', path: '/auth/me', summary: 'The signed-in user', responses: { 200: obj({ user: c.userSchema }) } },
  { method: 'post', path: '/auth/tokens', summary: 'Create an API token (its secret is shown once)', body: c.createApiTokenBodySchema, responses: { 201: obj({ token: c.apiTokenSchema, secret: z.string() }) } },
  { method: 'get', path: '/auth/tokens', summary: 'List API tokens', responses: { 200: obj({ tokens: z.array(c.apiTokenSchema) }) } },
  { method: 'delete', path: '/auth/tokens/{tokenId}', summary: 'Revoke an API token', responses: { 200: obj({ token: c.apiTokenSchema }) } },
  { method: 'post', path: '/projects', summary: 'Create a project (also POST /project)', body: c.createProjectBodySchema, responses: { 201: projectOut.extend(webhookSecret.shape), 409: null } },
  { method: 'get', path: '/projects', summary: 'List your projects', responses: { 200: obj({ projects: z.array(c.projectSchema) }) } },
  { method: 'get', path: '/projects/{projectId}', summary: 'Get a project', responses: { 200: projectOut } },
  { method: 'patch', path: '/projects/{projectId}', summary: 'Update a project (null clears a build setting)', body: c.updateProjectBodySchema, responses: { 200: projectOut } },
  { method: 'delete', path: '/projects/{projectId}', summary: 'Delete a project; its hostnames stop serving', responses: { 204: null } },
  { method: 'get', path: '/projects/{projectId}/deployments', summary: 'List deployments, newest first', query: c.listDeploymentsQuerySchema, responses: { 200: obj({ deployments: z.array(c.deploymentSchema), next: z.string().nullable() }) } },
  { method: 'post', path: '/deploy', summary: 'Deploy a project (production branch, or a ref or commit)', body: c.createDeploymentBodySchema, responses: { 202: deploymentOut } },
  { method: 'get', path: '/deployments/{deploymentId}', summary: 'Get a deployment', responses: { 200: deploymentOut } },
  { method: 'get', path: '/deployments/{deploymentId}/logs', summary: 'The build log, in order', responses: { 200: obj({ deploymentId: z.string(), status: c.deploymentStatusSchema, lines: z.array(c.logLineSchema) }) } },
  { method: 'post', path: '/deployments/{deploymentId}/cancel', summary: 'Cancel a queued or building deployment', body: c.cancelDeploymentBodySchema, responses: { 202: deploymentOut, 409: null } },
  { method: 'post', path: '/deployments/{deploymentId}/redeploy', summary: 'Build the same commit again, optionally without the build cache', body: c.redeployBodySchema, responses: { 202: deploymentOut } },
  { method: 'post', path: '/deployments/{deploymentId}/promote', summary: 'Serve a READY deployment at the production hostname (instant rollback)', responses: { 200: deploymentOut.extend({ productionUrl: z.string() }), 409: null } },
  { method: 'post', path: '/projects/{projectId}/env', summary: 'Add an env var (encrypted; its value is never returned)', body: c.createEnvVarBodySchema, responses: { 201: obj({ envVars: z.array(c.envVarSchema) }), 409: null } },
  { method: 'get', path: '/projects/{projectId}/env', summary: 'List env vars (without values)', responses: { 200: obj({ envVars: z.array(c.envVarSchema) }) } },
  { method: 'patch', path: '/projects/{projectId}/env/{envId}', summary: 'Change an env var value', body: c.updateEnvVarBodySchema, responses: { 200: obj({ envVar: c.envVarSchema }) } },
  { method: 'delete', path: '/projects/{projectId}/env/{envId}', summary: 'Delete an env var', responses: { 204: null } },
  { method: 'post', path: '/projects/{projectId}/github-webhook/secret', summary: 'Rotate the GitHub webhook secret (shown once)', responses: { 200: webhookSecret } },
  { method: 'get', path: '/projects/{projectId}/github-webhook/deliveries', summary: 'Recent GitHub deliveries', responses: { 200: obj({ deliveries: z.array(c.githubDeliverySchema) }) } },
  { method: 'post', path: '/projects/{projectId}/github-webhook/deliveries/{deliveryId}/redeliver', summary: 'Process a stored delivery again', responses: { 200: null, 202: null } },
  { method: 'post', path: '/webhooks/github', summary: 'GitHub webhook receiver (X-Hub-Signature-256 required)', auth: 'github-signature', responses: { 200: null, 202: null, 401: null } },
  { method: 'post', path: '/projects/{projectId}/deploy-hooks', summary: 'Create a deploy hook (its URL is shown once)', body: c.createDeployHookBodySchema, responses: { 201: obj({ hook: c.deployHookSchema, url: z.string() }) } },
  { method: 'get', path: '/projects/{projectId}/deploy-hooks', summary: 'List deploy hooks', responses: { 200: obj({ hooks: z.array(c.deployHookSchema) }) } },
  { method: 'delete', path: '/projects/{projectId}/deploy-hooks/{hookId}', summary: 'Delete a deploy hook', responses: { 204: null } },
  { method: 'post', path: '/deploy-hooks/{secret}', summary: 'Trigger a deploy hook', auth: 'none', responses: { 202: null, 404: null } },
  { method: 'post', path: '/projects/{projectId}/notifications', summary: 'Add a notification endpoint (signing secret shown once)', body: c.createNotificationEndpointBodySchema, responses: { 201: obj({ endpoint: c.notificationEndpointSchema, secret: z.string() }) } },
  { method: 'get', path: '/projects/{projectId}/notifications', summary: 'List notification endpoints', responses: { 200: obj({ endpoints: z.array(c.notificationEndpointSchema) }) } },
  { method: 'get', path: '/projects/{projectId}/notifications/{endpointId}/deliveries', summary: 'Recent notification deliveries', responses: { 200: null } },
  { method: 'delete', path: '/projects/{projectId}/notifications/{endpointId}', summary: 'Delete a notification endpoint', responses: { 204: null } },
];

const schema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'openapi-3.0' });

/** The OpenAPI 3 document, generated from the same zod schemas the routes validate with. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorResponse = { content: { 'application/json': { schema: schema(c.errorBodySchema, 'output') } } };
  for (const op of OPERATIONS) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (op.query) {
      const q = schema(op.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(q.properties ?? {})) params.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema: s as { type: string } });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, body] of Object.entries(op.responses)) {
      responses[status] = body ? { description: 'OK', content: { 'application/json': { schema: schema(body, 'output') } } } : { description: Number(status) >= 400 ? 'Error' : 'OK', ...(Number(status) >= 400 ? errorResponse : {}) };
    }
    responses['4XX'] = { description: 'Error: { error: { code, message, details } }', ...errorResponse };
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      ...(op.auth === 'none' || op.auth === 'github-signature' ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(op.body, 'input') } } } } : {}),
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
