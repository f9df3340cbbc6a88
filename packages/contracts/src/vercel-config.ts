import { z } from 'zod';
import { parseCommandLine, routingConfigSchema, type Command, type RoutingConfig, type RuleCondition } from '@platform/contracts';

/**
 * `vercel.json`, validated and compiled to the routing config the proxy applies: one
 * implementation for a build (the build-server reads the file from the repository) and for a
 * direct upload (the api-server reads it from the uploaded content).
 */

/** A route pattern as Vercel writes them: a path with `:params` and `(.*)` groups. */
const sourcePattern = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => s.startsWith('/'), 'must start with "/"')
  .refine((s) => !/[\s\0]/.test(s), 'must not contain whitespace')
  .refine(balancedGroups, 'has unbalanced parentheses');

const internalPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => s.startsWith('/'), 'must be a path starting with "/" (a static host cannot proxy to other sites)')
  .refine((s) => !/[\s\0]/.test(s), 'must not contain whitespace');

const redirectDestination = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => s.startsWith('/') || /^https?:\/\/[^\s/]+/i.test(s), 'must be a path starting with "/" or an http(s) URL')
  .refine((s) => !/[\s\0]/.test(s), 'must not contain whitespace');

/** A regular expression the proxy compiles: checked here, so a bad one fails the build, not the site. */
const conditionValue = z
  .string({ error: 'must be a string (a regular expression); the object form (eq, neq, ...) is not supported by this platform' })
  .max(1024)
  .refine((v) => {
    try {
      new RegExp(`^(?:${v})$`);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');
const conditionKey = z.string().min(1).max(256);
const condition = z.discriminatedUnion('type', [
  z.object({ type: z.literal('host'), value: conditionValue }).strict(),
  z.object({ type: z.literal('header'), key: conditionKey, value: conditionValue.optional() }).strict(),
  z.object({ type: z.literal('cookie'), key: conditionKey, value: conditionValue.optional() }).strict(),
  z.object({ type: z.literal('query'), key: conditionKey, value: conditionValue.optional() }).strict(),
]);
const ruleConditions = {
  has: z.array(condition).min(1).max(16).optional(),
  missing: z.array(condition).min(1).max(16).optional(),
};

const redirect = z
  .object({
    source: sourcePattern,
    destination: redirectDestination,
    permanent: z.boolean().optional(),
    statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).optional(),
    ...ruleConditions,
  })
  .strict()
  .refine((r) => !(r.permanent !== undefined && r.statusCode !== undefined), 'set either "permanent" or "statusCode", not both');

const rewrite = z.object({ source: sourcePattern, destination: internalPath, ...ruleConditions }).strict();

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'must be a valid HTTP header name');
const headerValue = z
  .string()
  .max(8192)
  .refine((v) => !/[\r\n\0]/.test(v), 'must not contain line breaks');
const header = z
  .object({
    source: sourcePattern,
    headers: z
      .array(z.object({ key: headerName, value: headerValue }).strict())
      .min(1)
      .max(64),
    ...ruleConditions,
  })
  .strict();

const commandText = z.string().trim().min(1).max(4096);

/** The part of `vercel.json` this platform honours; other keys are reported and ignored. */
export const vercelJsonSchema = z.object({
  cleanUrls: z.boolean().optional(),
  trailingSlash: z.boolean().optional(),
  redirects: z.array(redirect).max(1024).optional(),
  rewrites: z.array(rewrite).max(1024).optional(),
  headers: z.array(header).max(1024).optional(),
  installCommand: commandText.optional(),
  buildCommand: commandText.optional(),
  /** Exit 0 skips the build (Vercel's "Ignored Build Step"). */
  ignoreCommand: commandText.optional(),
  outputDirectory: z.string().trim().min(1).max(512).optional(),
});

const KNOWN_KEYS = new Set([...Object.keys(vercelJsonSchema.shape), '$schema']);

export interface ProjectConfig {
  routing: RoutingConfig;
  /** Commands and output folder from the file: used when the project settings leave them unset. */
  installCommand?: Command;
  buildCommand?: Command;
  ignoreCommand?: Command;
  outputDirectory?: string;
  /** Keys the file has that this platform does not apply, for the log. */
  ignoredKeys: string[];
}

export class VercelConfigError extends Error {}

export function compileVercelConfig(json: unknown): ProjectConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new VercelConfigError('vercel.json must be a JSON object');
  const parsed = vercelJsonSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VercelConfigError(`vercel.json: ${formatPath(issue.path) || '(root)'}: ${issue.message}`);
  }
  const file = parsed.data;
  const routing = routingConfigSchema.parse({
    cleanUrls: file.cleanUrls ?? false,
    ...(file.trailingSlash !== undefined ? { trailingSlash: file.trailingSlash } : {}),
    redirects: (file.redirects ?? []).map((r) => ({
      source: r.source,
      destination: r.destination,
      // Vercel's default: permanent, as 308 so the method is kept.
      statusCode: r.statusCode ?? (r.permanent === false ? 307 : 308),
      ...conditionsOf(r),
    })),
    rewrites: (file.rewrites ?? []).map((r) => ({ source: r.source, destination: r.destination, ...conditionsOf(r) })),
    headers: (file.headers ?? []).map((h) => ({ source: h.source, headers: h.headers, ...conditionsOf(h) })),
  });
  const config: ProjectConfig = { routing, ignoredKeys: Object.keys(json).filter((k) => !KNOWN_KEYS.has(k)) };
  if (file.installCommand) config.installCommand = commandFrom(file.installCommand, 'installCommand');
  if (file.buildCommand) config.buildCommand = commandFrom(file.buildCommand, 'buildCommand');
  if (file.ignoreCommand) config.ignoreCommand = commandFrom(file.ignoreCommand, 'ignoreCommand');
  if (file.outputDirectory) config.outputDirectory = file.outputDirectory;
  return config;
}

function conditionsOf(rule: { has?: z.infer<typeof condition>[]; missing?: z.infer<typeof condition>[] }): {
  has?: RuleCondition[];
  missing?: RuleCondition[];
} {
  return { ...(rule.has ? { has: rule.has } : {}), ...(rule.missing ? { missing: rule.missing } : {}) };
}

function commandFrom(text: string, field: string): Command {
  try {
    return parseCommandLine(text);
  } catch (err) {
    throw new VercelConfigError(`vercel.json: ${field}: ${(err as Error).message}`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

function balancedGroups(pattern: string): boolean {
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') i++;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}
