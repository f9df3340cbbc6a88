import { z } from 'zod';

/** The most of anything retention keeps or waits for; beyond it a setting is a typo. */
const MAX_KEEP = 1_000;

/**
 * A project's retention: how many READY deployments each branch keeps, how many earlier
 * production deployments stay for rollback, how long ERROR and CANCELED deployments'
 * leftovers stay, and how many bytes of build caches it may keep. Deployments an alias
 * serves are always kept. In a PATCH, null resets a setting to the platform default.
 */
export const retentionSettingsSchema = z.object({
  keepPerBranch: z.number().int().min(1).max(MAX_KEEP),
  keepRollback: z.number().int().min(0).max(MAX_KEEP),
  failedAfterDays: z.number().int().min(1).max(3_650),
  buildCacheCapBytes: z
    .number()
    .int()
    .min(0)
    .max(2 ** 50),
});
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

export const updateRetentionBodySchema = z
  .object({
    keepPerBranch: retentionSettingsSchema.shape.keepPerBranch.nullable(),
    keepRollback: retentionSettingsSchema.shape.keepRollback.nullable(),
    failedAfterDays: retentionSettingsSchema.shape.failedAfterDays.nullable(),
    buildCacheCapBytes: retentionSettingsSchema.shape.buildCacheCapBytes.nullable(),
  })
  .partial()
  .strict();
export type UpdateRetentionBody = z.infer<typeof updateRetentionBodySchema>;

/** What applies now (`effective`), what the project set (null: the default), and the defaults. */
export const retentionSchema = z.object({
  effective: retentionSettingsSchema,
  project: z.object({
    keepPerBranch: z.number().nullable(),
    keepRollback: z.number().nullable(),
    failedAfterDays: z.number().nullable(),
    buildCacheCapBytes: z.number().nullable(),
  }),
  defaults: retentionSettingsSchema,
});
export type Retention = z.infer<typeof retentionSchema>;

/** Bytes a project holds, by kind; `quotaBytes` null: no quota. */
export const storageUsageSchema = z.object({
  deploymentsBytes: z.number(),
  buildCacheBytes: z.number(),
  logBytes: z.number(),
  totalBytes: z.number(),
  quotaBytes: z.number().nullable(),
  measuredAt: z.string(),
});
export type StorageUsage = z.infer<typeof storageUsageSchema>;

/** `build-cache/<project>/`: every dependency cache of one project (its id made key-safe). */
export const buildCachePrefix = (projectId: string): string => `build-cache/${projectId.replace(/[^A-Za-z0-9_-]/g, '_')}/`;

/**
 * `<cache key>.used`, rewritten by a build on every cache hit (a hit does not rewrite the
 * cache itself): the platform evicts a project's caches least recently used first.
 */
export const BUILD_CACHE_USE_SUFFIX = '.used';
