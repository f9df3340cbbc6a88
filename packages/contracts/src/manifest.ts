import { z } from 'zod';

export const manifestFileSchema = z.object({
  size: z.number().int().nonnegative(),
  /** sha256 of the content, hex; also the ETag the proxy serves. */
  hash: z.string(),
  contentType: z.string(),
  cacheControl: z.string(),
});
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/** `deployments/<id>/_manifest.json`, written last by the build-server. */
export const manifestSchema = z.object({
  version: z.literal(1),
  deploymentId: z.string(),
  createdAt: z.string(),
  /** Keyed by the path below the deployment prefix, without a leading slash. */
  files: z.record(z.string(), manifestFileSchema),
});
export type Manifest = z.infer<typeof manifestSchema>;
