import { z } from 'zod';

// Direct uploads (the CLI's `deploy`): a manifest of hashes in, the missing contents out,
// those uploaded one by one (each checked against its hash), then a deployment made from the
// manifest. The contents land in the project's content namespace (`content.ts`).

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');
const size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** One path segment: not empty, not `.` or `..`, no `/`, backslash or NUL. */
const SEGMENT = String.raw`(?:[^/\\.\x00][^/\\\x00]*|\.[^/\\.\x00][^/\\\x00]*|\.\.[^/\\\x00]+)`;

/**
 * A path in the deployment: `/`-separated relative segments, none `.` or `..`. One pattern
 * (no lookarounds), so the OpenAPI document states exactly what the route accepts.
 */
export const uploadPathSchema = z
  .string()
  .min(1)
  .max(1024)
  .regex(new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`), 'must be a relative path of "/"-separated names, none "." or ".."');

export const uploadCheckBodySchema = z.object({
  files: z.array(z.object({ hash: sha256, size })).max(100_000),
});
export type UploadCheckBody = z.infer<typeof uploadCheckBodySchema>;

export const uploadCheckResultSchema = z.object({
  /** The hashes the project's namespace lacks: upload these. */
  missing: z.array(z.string()),
});

/** The `{hash}` of `POST /projects/:id/uploads/:hash`. */
export const contentHashParamSchema = sha256;

export const uploadedContentSchema = z.object({
  hash: z.string(),
  size: z.number().int(),
  /** false: the content was stored already, nothing was written. */
  stored: z.boolean(),
});

export const directDeploymentBodySchema = z.object({
  /**
   * Every file of the deployment; a path given twice takes its last entry. `vercel.json`
   * among them is the routing config, as in a build (and is not served).
   */
  files: z
    .array(z.object({ path: uploadPathSchema, hash: sha256, size }))
    .min(1)
    .max(100_000),
  /** Default preview; production moves the production hostname when it is READY. */
  target: z.enum(['production', 'preview']).default('preview'),
});
export type DirectDeploymentBody = z.infer<typeof directDeploymentBodySchema>;
