import { z } from 'zod';
import { resolve } from 'node:path';
import { deploymentStatusSchema, logStreamSchema } from './build-events.ts';
import type { GitUrlPolicy } from './git-url.ts';
import { nodeVersionSchema } from './build-task.ts';

// Every request schema below is also the OpenAPI document's (api-server/src/http/openapi.ts),
// so each check is one JSON Schema can state: lengths count characters (code points, as JSON
// Schema does) and are checked before trimming, and patterns avoid `\s`, `\S` and flags,
// whose meaning differs between regex dialects (JavaScript here, Python or Rust in users' tools).

/** The whitespace JavaScript's `trim()` and `\s` know, spelled out. */
const WS = ' \\t\\n\\v\\f\\r\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** One character that is neither whitespace nor NUL (which PostgreSQL text cannot store). */
const VISIBLE = `[^${WS}\\x00]`;
const pattern = (source: string) => new RegExp(source);
/** `[Hh][Tt]...`: a case-insensitive word without a regex flag. */
const caseless = (word: string) => [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');

/** Length in characters (code points), as JSON Schema counts it; `String.length` counts UTF-16 units. */
const chars = (min: number, max: number) =>
  z
    .string()
    .refine(
      (v) => {
        const n = [...v].length;
        return n >= min && n <= max;
      },
      min > 0 ? `must have ${min} to ${max} characters` : `must have at most ${max} characters`,
    )
    .meta({ ...(min > 0 ? { minLength: min } : {}), maxLength: max });

/** Any text without NUL characters, at most `max` characters. */
const text = (max: number, min = 0) => chars(min, max).regex(/^[^\x00]*$/, 'must not contain NUL characters');

/** Text with at least one visible character, at most `max` characters; stored trimmed. */
const trimmed = (max: number) =>
  chars(1, max)
    .regex(pattern(`^[^\\x00]*${VISIBLE}[^\\x00]*$`), 'must contain a visible character and no NUL characters')
    .trim();

/**
 * A branch or tag as `git check-ref-format` accepts it, minus anything that could read as an
 * option: no control characters, spaces or `~^:?*[\\`, no leading `-` or `/`, no `..`, `@{`,
 * `//` or `/.`, no trailing `/`, `.` or `.lock`. Refused here, not in the build.
 */
export const GIT_REF_PATTERN = pattern(`^(?![-/])(?![\\s\\S]*(?:\\.\\.|@\\{|//|/\\.))(?![\\s\\S]*(?:/|\\.|\\.lock)$)[^${WS}\\x00-\\x20\\x7f~^:?*\\[\\\\]+$`);
export const gitRefSchema = chars(1, 255).regex(
  GIT_REF_PATTERN,
  'must be a git branch or tag name (no spaces, control characters, ~^:?*[\\, "..", "@{", or leading "-")',
);

const NONBLANK_NO_SLASH = `[^${WS}\\x00/]`;
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * The git URLs `validateGitUrl` accepts under `policy`: https, ssh and scp-like remotes; with
 * local roots also http on this machine and paths (or file:// URLs) under a root, without `..`.
 */
function gitUrlPattern(policy: GitUrlPolicy): RegExp {
  const forms = [
    `${caseless('https')}://[^${WS}\\x00/-]${NONBLANK_NO_SLASH}*/${VISIBLE}+`,
    `${caseless('ssh')}://(?:[^${WS}\\x00/@-][^${WS}\\x00/@]*@)?[^${WS}\\x00/@-]${NONBLANK_NO_SLASH}*/${VISIBLE}+`,
    `[A-Za-z0-9._][A-Za-z0-9._-]*@[A-Za-z0-9.-]+:[^${WS}\\x00-]${VISIBLE}*`,
  ];
  if (policy.localRoots.length > 0) {
    forms.push(`${caseless('http')}://(?:127\\.0\\.0\\.1|${caseless('localhost')}|\\[::1\\])(?::[0-9]+)?/${VISIBLE}+`);
    const roots = policy.localRoots.map((root) => escapeRegex(resolve(root).replace(/\/+$/, '')));
    forms.push(`(?:file://)?(?:${roots.join('|')})(?![^\\x00]*/\\.\\.(?:/|[${WS}]*$))(?:/[^\\x00\\r\\n]*)?`);
  }
  return pattern(`^[${WS}]*(?:${forms.join('|')})[${WS}]*$`);
}

const gitUrlSchema = (policy: GitUrlPolicy) =>
  chars(1, 2048)
    .regex(
      gitUrlPattern(policy),
      `must be an https:// or ssh git URL (or git@host:path)${policy.localRoots.length ? ', or a local path under an allowed folder' : ''}`,
    )
    .trim();

/**
 * Text a user types for a command; parsed into an argument array with `parseCommandLine`.
 * The pattern is that parser's grammar: words split by whitespace, quotes group, `|;&<>\`$(){}`
 * may not start a word, at most 64 words, none empty.
 */
const COMMAND_LINE_PATTERN = (() => {
  const sp = `[${WS}]`;
  const op = '|;&<>`$(){}';
  const startBare = `[^${WS}\\x00"'${op.replace(/[\]\\^-]/g, '\\$&')}]`;
  const anyBare = `[^${WS}\\x00"']`;
  const dq = (q: '*' | '+') => `"(?:[^"\\\\\\x00]|\\\\[^\\x00])${q}"`;
  const sq = (q: '*' | '+') => `'[^'\\x00]${q}'`;
  const word = `(?:${startBare}|${dq('+')}|${sq('+')}|(?:""|'')+(?:${anyBare}|${dq('+')}|${sq('+')}))(?:${anyBare}|${dq('*')}|${sq('*')})*`;
  return pattern(`^${sp}*${word}(?:${sp}+${word}){0,63}${sp}*$`);
})();
const commandLine = chars(1, 4096).regex(COMMAND_LINE_PATTERN, 'must be a command: words, optionally quoted, without shell operators').trim();

const projectName = chars(1, 63)
  .regex(/^[^\x00]*[a-zA-Z0-9][^\x00]*$/, 'name must contain a letter or digit (and no NUL characters)')
  .trim();

/**
 * A query parameter holding a whole number: decimal digits, `min` to `max`. Documented as an
 * integer (the form users' tools send), validated as the text it arrives as.
 */
export const queryInteger = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,16}$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be an integer from ${min} to ${max}`).max(max, `must be an integer from ${min} to ${max}`))
    .meta({ type: 'integer', minimum: min, maximum: max });

/** Subdomains the platform keeps for itself (the proxy forwards `api.<ROOT_DOMAIN>` to the API). */
export const RESERVED_SLUGS = ['api', 'www', 'admin', 'dashboard', 'app', 'static', 'assets'] as const;
/**
 * Slugs no project may ask for: the reserved ones, and those shaped like another project's
 * deployment (`<slug>-<9 characters>`) or branch (`<slug>-git-<branch>`) hostname.
 */
export const RESERVED_SLUG_PATTERN = new RegExp(`^(?:${RESERVED_SLUGS.join('|')})$|-git-|-git$|-[a-z0-9]{9}$`);

/**
 * The project bodies under a git URL policy (which local paths the operator allows): the
 * api-server parses with these and documents them.
 */
export function projectBodySchemas(policy: GitUrlPolicy) {
  const gitUrl = gitUrlSchema(policy);
  const create = z.object({
    name: projectName,
    gitUrl,
    productionBranch: gitRefSchema.optional(),
    rootDirectory: trimmed(512).optional(),
    installCommand: commandLine.optional(),
    buildCommand: commandLine.optional(),
    /** Runs before each build; exit code 0 skips it (the deployment ends CANCELED, "skipped: ..."). */
    ignoreCommand: commandLine.optional(),
    outputDirectory: trimmed(512).optional(),
    spa: z.boolean().optional(),
    /** Node.js version or range for builds (`22`, `22.x`, `>=20 <23`); absent: what the repository asks for. */
    nodeVersion: nodeVersionSchema.optional(),
    /** Subdomain; derived from the name when absent (with a suffix if that one is taken). */
    slug: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'slug must be 1-40 lower-case letters, digits or inner hyphens')
      .refine(
        (slug) => !RESERVED_SLUG_PATTERN.test(slug),
        'slug must not be reserved (api, www, ...) or look like a deployment or branch hostname (-git, -<9 characters>)',
      )
      .meta({ not: { pattern: RESERVED_SLUG_PATTERN.source } })
      .optional(),
  });
  /** Build settings can be cleared with null (then they are detected again at build time). */
  const update = z
    .object({
      name: projectName,
      gitUrl,
      productionBranch: gitRefSchema,
      rootDirectory: trimmed(512).nullable(),
      installCommand: commandLine.nullable(),
      buildCommand: commandLine.nullable(),
      ignoreCommand: commandLine.nullable(),
      outputDirectory: trimmed(512).nullable(),
      spa: z.boolean(),
      nodeVersion: nodeVersionSchema.nullable(),
    })
    .partial()
    .strict();
  return { create, update };
}

/** The project bodies where no local path is allowed. */
const remoteOnly = projectBodySchemas({ localRoots: [] });
export const createProjectBodySchema = remoteOnly.create;
export type CreateProjectBody = z.infer<typeof createProjectBodySchema>;

export const createDeploymentBodySchema = z.object({
  projectId: trimmed(64),
  /** Branch or tag; the project's production branch when absent. */
  ref: gitRefSchema.optional(),
  commit: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/, 'commit must be a hex sha')
    .optional(),
});
export type CreateDeploymentBody = z.infer<typeof createDeploymentBodySchema>;

export const updateProjectBodySchema = remoteOnly.update;
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
  /** The ignored build step: exit code 0 skips the build. */
  ignoreCommand: z.string().nullable().optional(),
  outputDirectory: z.string().nullable(),
  spa: z.boolean(),
  /** The project's Node.js setting; null: what the repository asks for (.nvmrc, engines.node), else the build image's. */
  nodeVersion: z.string().nullable().optional(),
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
  /** Why a QUEUED deployment is still waiting (launches paused for lack of disk space, a launch to retry). */
  waitingReason: z.string().optional(),
  /** false for a redeploy without the build cache. */
  useBuildCache: z.boolean().optional(),
  /** The exact Node.js version the build ran, once it has finished (null before, or for older builds). */
  nodeVersion: z.string().nullable().optional(),
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

const email = chars(1, 254)
  .regex(pattern(`^[${WS}]*[^${WS}\\x00@]+@[^${WS}\\x00@]+[${WS}]*$`), 'email must look like name@example.com')
  .trim()
  .toLowerCase();

export const signupBodySchema = z.object({
  email,
  /** At least 10 characters; long passphrases welcome. */
  password: text(1024, 10),
});
export type SignupBody = z.infer<typeof signupBodySchema>;

export const loginBodySchema = z.object({ email, password: text(1024, 1) });
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

/** A sign-in session: every access token names one, and stops working when it is revoked. */
export const signInSessionSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  /** The session of the access token this request was sent with. */
  current: z.boolean(),
});
export type SignInSession = z.infer<typeof signInSessionSchema>;

// ---- deployments ----------------------------------------------------------------------

const STATUS_LIST_PATTERN = (() => {
  const item = `[${WS}]*(?:${deploymentStatusSchema.options.map(caseless).join('|')})[${WS}]*`;
  return pattern(`^${item}(?:,${item})*$`);
})();

export const listDeploymentsQuerySchema = z.object({
  /** One status or several, comma-separated: `READY,ERROR`. */
  status: chars(1, 100)
    .regex(STATUS_LIST_PATTERN, `status must be one or more of ${deploymentStatusSchema.options.join(', ')}, comma-separated`)
    .transform((v) => v.split(',').map((s) => s.trim().toUpperCase()))
    .pipe(z.array(deploymentStatusSchema).min(1))
    .optional(),
  branch: trimmed(255).optional(),
  target: z.enum(['production', 'preview']).optional(),
  limit: queryInteger(1, 100).default(20),
  /** A deployment id: the page continues with older deployments. */
  before: trimmed(64).optional(),
});
export type ListDeploymentsQuery = z.infer<typeof listDeploymentsQuerySchema>;

/** The most log lines one `GET /deployments/:id/logs` page may ask for. */
export const MAX_LOG_PAGE = 100_000;

/**
 * `GET /deployments/:id/logs` (and `logs.txt`): `afterSeq` and `limit` page through the log,
 * `q` keeps the lines containing that text (ignoring case), `format=text` downloads it.
 */
export const logsQuerySchema = z.object({
  /** Lines after this seq; 0 (the default) from the start. */
  afterSeq: queryInteger(0, Number.MAX_SAFE_INTEGER).default(0),
  /** At most this many lines: one page of 10,000 by default (JSON), everything for a download. */
  limit: queryInteger(1, MAX_LOG_PAGE).optional(),
  /** Only the lines containing this text, ignoring case; empty: every line. */
  q: text(256).optional(),
  format: z.enum(['json', 'text']).optional(),
});
export type LogsQuery = z.infer<typeof logsQuerySchema>;

export const logsPageSchema = z.object({
  deploymentId: z.string(),
  status: deploymentStatusSchema,
  lines: z.array(logLineSchema),
  /** true when the page is full: more lines may follow at once. */
  hasMore: z.boolean(),
  /** The `afterSeq` of the next page; null once a finished build's log has been read to the end. */
  nextAfterSeq: z.number().int().nullable(),
});
export type LogsPage = z.infer<typeof logsPageSchema>;

/** The body may be left out: a redeploy with the build cache. */
export const redeployBodySchema = z
  .object({
    /** false: install dependencies from scratch instead of restoring the cache. Default true. */
    useBuildCache: z.boolean().default(true),
  })
  .prefault({});
export type RedeployBody = z.infer<typeof redeployBodySchema>;

/** The body may be left out. */
export const cancelDeploymentBodySchema = z.object({ reason: trimmed(500).optional() }).prefault({});

// ---- env vars -------------------------------------------------------------------------

export const envTargetSchema = z.enum(['production', 'preview']);
export type EnvTarget = z.infer<typeof envTargetSchema>;

/** Names the build-server needs for itself; a user variable may not replace them. */
export const RESERVED_ENV_KEYS = ['PATH', 'HOME', 'BUILD_TASK'] as const;

const envKey = z
  .string()
  .max(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'key must be letters, digits and underscores, not starting with a digit')
  .refine((k) => !(RESERVED_ENV_KEYS as readonly string[]).includes(k), `key must not be one of ${RESERVED_ENV_KEYS.join(', ')}`)
  .meta({ not: { enum: [...RESERVED_ENV_KEYS] } });

export const createEnvVarBodySchema = z.object({
  key: envKey,
  value: text(32_768),
  /** Builds of these targets get the variable. Default both. */
  targets: z.array(envTargetSchema).min(1).max(2).default(['production', 'preview']),
});
export type CreateEnvVarBody = z.infer<typeof createEnvVarBodySchema>;

export const updateEnvVarBodySchema = z.object({ value: text(32_768) });

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

export const createDeployHookBodySchema = z.object({ name: trimmed(100), branch: gitRefSchema });
export type CreateDeployHookBody = z.infer<typeof createDeployHookBodySchema>;

export const deployHookSchema = z.object({ id: z.string(), name: z.string(), branch: z.string(), createdAt: z.string() });
export type DeployHook = z.infer<typeof deployHookSchema>;

export const NOTIFICATION_EVENTS = [
  'deployment.created',
  'deployment.succeeded',
  'deployment.error',
  'deployment.canceled',
  'deployment.promoted',
  // A custom domain's certificate renewal failed; the current certificate keeps being served.
  'domain.renewal_failed',
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

/** One attempt log of an outgoing notification (`GET …/notifications/:id/deliveries`). */
export const notificationDeliverySchema = z.object({
  id: z.string(),
  event: notificationEventSchema,
  status: z.string(),
  attempts: z.number().int(),
  responseStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type NotificationDelivery = z.infer<typeof notificationDeliverySchema>;

export const githubDeliverySchema = z.object({
  deliveryId: z.string(),
  event: z.string(),
  outcome: z.enum(['deployed', 'ignored', 'pong', 'unpublished', 'awaiting_approval']),
  detail: z.string().nullable(),
  deploymentId: z.string().nullable(),
  receivedAt: z.string(),
});
export type GithubDelivery = z.infer<typeof githubDeliverySchema>;
