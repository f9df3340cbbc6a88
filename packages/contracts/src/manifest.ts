import { z } from 'zod';

/** A precompressed copy of a file, stored beside it. */
export const manifestVariantSchema = z.object({
  /**
   * Version 1: object key below the deployment prefix, e.g. `assets/app.js.br`. Version 2:
   * informative only (`<sha256>.br`); the key is `contentKey(projectId, hash, encoding)`.
   */
  path: z.string(),
  size: z.number().int().nonnegative(),
});

export const manifestFileSchema = z.object({
  size: z.number().int().nonnegative(),
  /** sha256 of the content, hex; also the ETag the proxy serves. */
  hash: z.string(),
  contentType: z.string(),
  cacheControl: z.string(),
  /** Precompressed variants for text types, chosen by the proxy from Accept-Encoding. */
  encodings: z
    .object({
      br: manifestVariantSchema.optional(),
      gzip: manifestVariantSchema.optional(),
    })
    .optional(),
});
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/**
 * A condition on the request besides its path (`vercel.json` `has`/`missing`, a Netlify query
 * match). `value` is a regular expression matched against the whole value (its named groups,
 * like `key` without a value, fill `:name` in the destination); absent: the key must be there.
 * `host` has no key.
 */
export const ruleConditionSchema = z.object({
  type: z.enum(['header', 'cookie', 'host', 'query']),
  key: z.string().max(256).optional(),
  value: z.string().max(1024).optional(),
});
export type RuleCondition = z.infer<typeof ruleConditionSchema>;

/** Optional on every rule: a manifest without them (an older build) means none. */
const conditions = {
  /** Every one must hold. */
  has: z.array(ruleConditionSchema).max(16).optional(),
  /** None may hold. */
  missing: z.array(ruleConditionSchema).max(16).optional(),
};

/** `vercel.json` redirect, compiled: `source` and `destination` use path-to-regexp style `:param` and `(.*)`. */
export const redirectRuleSchema = z.object({
  source: z.string(),
  destination: z.string(),
  /** 301, 302, 307 or 308; `permanent: true` compiles to 308, false to 307. */
  statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]),
  ...conditions,
  /** Netlify's rules without `!`: skipped when a file exists at the path (Vercel's always apply). */
  unlessFileExists: z.boolean().optional(),
});
export const rewriteRuleSchema = z.object({
  source: z.string(),
  destination: z.string(),
  ...conditions,
  /** Netlify's `200!`: applies even when a file exists at the path (Vercel's rewrites apply only when none does). */
  force: z.boolean().optional(),
});
export const headerRuleSchema = z.object({
  source: z.string(),
  headers: z.array(z.object({ key: z.string(), value: z.string() })),
  ...conditions,
});

/** The static-host subset of `vercel.json`, validated at build time and applied by the proxy. */
export const routingConfigSchema = z.object({
  cleanUrls: z.boolean().default(false),
  /** true: `/about` → 308 `/about/`; false: `/about/` → 308 `/about`; absent: both served. */
  trailingSlash: z.boolean().optional(),
  redirects: z.array(redirectRuleSchema).default([]),
  rewrites: z.array(rewriteRuleSchema).default([]),
  headers: z.array(headerRuleSchema).default([]),
});
export type RoutingConfig = z.output<typeof routingConfigSchema>;

/**
 * `deployments/<id>/_manifest.json`, written last by the build-server (or the uploads API).
 * Version 1: each file under `deployments/<id>/<path>`. Version 2: content-addressed, each
 * file at `content/<projectId>/<hash>` (see `content.ts` for the layout and its guarantees).
 */
export const manifestSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  deploymentId: z.string(),
  /** Version 2: the project whose content namespace holds the files. */
  projectId: z.string().optional(),
  createdAt: z.string(),
  /** Keyed by the path below the deployment prefix, without a leading slash. Variants are not listed here. */
  files: z.record(z.string(), manifestFileSchema),
  routing: routingConfigSchema.optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;
