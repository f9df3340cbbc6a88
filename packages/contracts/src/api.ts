import { z } from 'zod';
import { deploymentStatusSchema, logStreamSchema } from './build-events.ts';

const trimmed = (max: number) => z.string().trim().min(1).max(max);

/** Text a user types for a command; parsed into an argument array with `parseCommandLine`. */
const commandLine = z.string().trim().min(1).max(4096);

export const createProjectBodySchema = z.object({
  name: trimmed(63).regex(/[a-zA-Z0-9]/, 'name must contain a letter or digit'),
  gitUrl: trimmed(2048),
  productionBranch: trimmed(255).optional(),
  rootDirectory: trimmed(512).optional(),
  installCommand: commandLine.optional(),
  buildCommand: commandLine.optional(),
  outputDirectory: trimmed(512).optional(),
  spa: z.boolean().optional(),
  /** Subdomain; derived from the name when absent (with a suffix if that one is taken). */
  slug: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'slug must be 1-40 lower-case letters, digits or inner hyphens')
    .optional(),
});
export type CreateProjectBody = z.infer<typeof createProjectBodySchema>;

export const createDeploymentBodySchema = z.object({
  projectId: trimmed(64),
  /** Branch or tag; the project's production branch when absent. */
  ref: trimmed(255).optional(),
  commit: z.string().regex(/^[0-9a-f]{7,40}$/, 'commit must be a hex sha').optional(),
});
export type CreateDeploymentBody = z.infer<typeof createDeploymentBodySchema>;

/** Build settings can be cleared with null (then they are detected again at build time). */
export const updateProjectBodySchema = z
  .object({
    name: trimmed(63).regex(/[a-zA-Z0-9]/, 'name must contain a letter or digit'),
    gitUrl: trimmed(2048),
    productionBranch: trimmed(255),
    rootDirectory: trimmed(512).nullable(),
    installCommand: commandLine.nullable(),
    buildCommand: commandLine.nullable(),
    outputDirectory: trimmed(512).nullable(),
    spa: z.boolean(),
  })
  .partial()
  .strict();
export type UpdateProjectBody = z.infer<typeof updateProjectBodySchema>;

export const projectSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  gitUrl: z.string(),
  productionBranch: z.string(),
  rootDirectory: z.string().nullable(),
  installCommand: z.string().nullable(),
  buildCommand: z.string().nullable(),
  outputDirectory: z.string().nullable(),
  spa: z.boolean(),
  url: z.string(),
  createdAt: z.string(),
  /** The deployment the production hostname serves now (GET /projects/:id only). */
  productionDeploymentId: z.string().nullable().optional(),
});
export type Project = z.infer<typeof projectSchema>;

export const deploymentSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  status: deploymentStatusSchema,
  target: z.enum(['production', 'preview']),
  ref: z.string().nullable(),
  commit: z.string().nullable(),
  errorMessage: z.string().nullable(),
  /** false for a redeploy without the build cache. */
  useBuildCache: z.boolean().optional(),
  url: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type Deployment = z.infer<typeof deploymentSchema>;

export const logLineSchema = z.object({
  seq: z.number().int(),
  ts: z.number(),
  stream: logStreamSchema,
  message: z.string(),
});
export type LogLine = z.infer<typeof logLineSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

// ---- accounts -------------------------------------------------------------------------

const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'email must look like name@example.com');

export const signupBodySchema = z.object({
  email,
  /** At least 10 characters; long passphrases welcome. */
  password: z.string().min(10, 'password must have at least 10 characters').max(1024),
});
export type SignupBody = z.infer<typeof signupBodySchema>;

export const loginBodySchema = z.object({ email, password: z.string().min(1).max(1024) });
export type LoginBody = z.infer<typeof loginBodySchema>;

export const userSchema = z.object({ id: z.string(), email: z.string(), createdAt: z.string() });
export type User = z.infer<typeof userSchema>;

export const sessionSchema = z.object({
  user: userSchema,
  /** A JWT for `Authorization: Bearer ...` and the socket.io handshake's `auth.token`. */
  accessToken: z.string(),
  expiresAt: z.string(),
});
export type Session = z.infer<typeof sessionSchema>;

export const createApiTokenBodySchema = z.object({
  name: trimmed(100),
  /** The token stops working after this many days; never when absent. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type CreateApiTokenBody = z.infer<typeof createApiTokenBodySchema>;

export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The token's first characters, to tell tokens apart. */
  prefix: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiToken = z.infer<typeof apiTokenSchema>;

// ---- deployments ----------------------------------------------------------------------

export const listDeploymentsQuerySchema = z.object({
  /** One status or several, comma-separated: `READY,ERROR`. */
  status: z
    .string()
    .max(100)
    .transform((v) => v.split(',').map((s) => s.trim().toUpperCase()))
    .pipe(z.array(deploymentStatusSchema).min(1))
    .optional(),
  branch: trimmed(255).optional(),
  target: z.enum(['production', 'preview']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** A deployment id: the page continues with older deployments. */
  before: trimmed(64).optional(),
});
export type ListDeploymentsQuery = z.infer<typeof listDeploymentsQuerySchema>;

export const redeployBodySchema = z.object({
  /** false: install dependencies from scratch instead of restoring the cache. Default true. */
  useBuildCache: z.boolean().default(true),
});
export type RedeployBody = z.infer<typeof redeployBodySchema>;

export const cancelDeploymentBodySchema = z.object({ reason: trimmed(500).optional() });

// ---- env vars -------------------------------------------------------------------------

export const envTargetSchema = z.enum(['production', 'preview']);
export type EnvTarget = z.infer<typeof envTargetSchema>;

/** Names the build-server needs for itself; a user variable may not replace them. */
export const RESERVED_ENV_KEYS = ['PATH', 'HOME', 'BUILD_TASK'] as const;

const envKey = z
  .string()
  .max(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'key must be letters, digits and underscores, not starting with a digit')
  .refine((k) => !(RESERVED_ENV_KEYS as readonly string[]).includes(k), `key must not be one of ${RESERVED_ENV_KEYS.join(', ')}`);

export const createEnvVarBodySchema = z.object({
  key: envKey,
  value: z.string().max(32_768),
  /** Builds of these targets get the variable. Default both. */
  targets: z.array(envTargetSchema).min(1).max(2).default(['production', 'preview']),
});
export type CreateEnvVarBody = z.infer<typeof createEnvVarBodySchema>;

export const updateEnvVarBodySchema = z.object({ value: z.string().max(32_768) });

/** An env var as the API shows it: never its value. */
export const envVarSchema = z.object({
  id: z.string(),
  key: z.string(),
  target: envTargetSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type EnvVar = z.infer<typeof envVarSchema>;

// ---- hooks and notifications ----------------------------------------------------------

export const createDeployHookBodySchema = z.object({ name: trimmed(100), branch: trimmed(255) });
export type CreateDeployHookBody = z.infer<typeof createDeployHookBodySchema>;

export const deployHookSchema = z.object({ id: z.string(), name: z.string(), branch: z.string(), createdAt: z.string() });
export type DeployHook = z.infer<typeof deployHookSchema>;

export const NOTIFICATION_EVENTS = [
  'deployment.created',
  'deployment.succeeded',
  'deployment.error',
  'deployment.canceled',
  'deployment.promoted',
] as const;
export const notificationEventSchema = z.enum(NOTIFICATION_EVENTS);
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

export const createNotificationEndpointBodySchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' }).max(2048),
  /** Events to receive; all of them when absent or empty. */
  events: z.array(notificationEventSchema).max(NOTIFICATION_EVENTS.length).default([]),
});
export type CreateNotificationEndpointBody = z.infer<typeof createNotificationEndpointBodySchema>;

export const notificationEndpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(notificationEventSchema),
  createdAt: z.string(),
});
export type NotificationEndpoint = z.infer<typeof notificationEndpointSchema>;

/**
 * The body of an outgoing notification. Signed like GitHub signs its webhooks:
 * `X-Platform-Signature: sha256=<hex HMAC-SHA256 of the raw body with the endpoint's secret>`.
 */
export const notificationPayloadSchema = z.object({
  id: z.string(),
  type: notificationEventSchema,
  createdAt: z.string(),
  projectId: z.string(),
  deployment: deploymentSchema,
});
export type NotificationPayload = z.infer<typeof notificationPayloadSchema>;

export const githubDeliverySchema = z.object({
  deliveryId: z.string(),
  event: z.string(),
  outcome: z.enum(['deployed', 'ignored', 'pong']),
  detail: z.string().nullable(),
  deploymentId: z.string().nullable(),
  receivedAt: z.string(),
});
export type GithubDelivery = z.infer<typeof githubDeliverySchema>;
