import { cachePolicyFor, contentTypeFor } from './content-types.ts';

/**
 * Content-addressed file storage (manifest version 2).
 *
 * ```
 * content/<projectId>/<sha256>       the bytes of a file, hex sha256 of those bytes as the name
 * content/<projectId>/<sha256>.br    its brotli variant (decompresses to bytes with that sha256)
 * content/<projectId>/<sha256>.gz    its gzip variant (same)
 * deployments/<deploymentId>/_manifest.json   version 2: path → sha256 (plus size, type, variants)
 * ```
 *
 * In a version 2 manifest a variant's `path` is only the suffix of its key (`.br`, `.gz`):
 * readers derive every key from the project id and the hash, never from a manifest string.
 *
 * Every content object is written once (`put(..., { ifAbsent: true })`): the first write of a
 * key wins and nothing replaces it later, and the proxy checks the bytes against the name (a
 * variant: its decompressed bytes) before it caches or serves them. Version 1 manifests keep
 * their files under `deployments/<id>/<path>` and are still served as they are.
 *
 * The namespace is per project, not global. A global namespace would dedupe across tenants
 * but lets one tenant learn whether another has published some content (ask for a hash,
 * see whether it is missing) and lets a hostile writer pre-place bytes under a hash a
 * stranger will publish later; a hash check turns that into a 502, not foreign bytes, but
 * it is still an outage caused by someone else. Per project, a build's storage credentials
 * can be scoped to `content/<its projectId>/`, and the worst a hostile build can do is spoil
 * its own project's future deployments, never one that is already serving.
 *
 * Garbage collection (mark and sweep): mark every hash named by a retained manifest of the
 * project (`files[path].hash`), sweep `content/<projectId>/<hash>{,.br,.gz}` for unmarked
 * hashes older than the longest upload in flight (an upload checks, then writes the manifest).
 */

/** The folder of one project's content objects. */
export const contentPrefix = (projectId: string): string => `content/${projectId}/`;

export type ContentEncoding = 'identity' | 'br' | 'gzip';

const VARIANT_SUFFIX: Record<ContentEncoding, string> = { identity: '', br: '.br', gzip: '.gz' };

/** The object key of a content (or of one of its variants) in a project's namespace. */
export const contentKey = (projectId: string, sha256: string, encoding: ContentEncoding = 'identity'): string =>
  `${contentPrefix(projectId)}${sha256}${VARIANT_SUFFIX[encoding]}`;

/** A lowercase hex sha256: the only names content objects have. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;
export const isSha256Hex = (value: string): boolean => SHA256_HEX.test(value);

/** The `encodings` of a version 2 manifest entry from the variants stored for a content. */
export function contentEncodings(variants: {
  br?: { size: number };
  gzip?: { size: number };
}): { br?: { path: string; size: number }; gzip?: { path: string; size: number } } | undefined {
  const encodings: { br?: { path: string; size: number }; gzip?: { path: string; size: number } } = {};
  if (variants.br) encodings.br = { path: VARIANT_SUFFIX.br, size: variants.br.size };
  if (variants.gzip) encodings.gzip = { path: VARIANT_SUFFIX.gzip, size: variants.gzip.size };
  return encodings.br || encodings.gzip ? encodings : undefined;
}

/** A version 2 manifest entry: type and cache policy by path (as `content-types.ts` decides), variants as stored. */
export function contentManifestEntry(
  path: string,
  stored: { hash: string; size: number; variants: { br?: { size: number }; gzip?: { size: number } } },
): { size: number; hash: string; contentType: string; cacheControl: string; encodings?: ReturnType<typeof contentEncodings> } {
  const contentType = contentTypeFor(path);
  const encodings = contentEncodings(stored.variants);
  return { size: stored.size, hash: stored.hash, contentType, cacheControl: cachePolicyFor(path, contentType), ...(encodings ? { encodings } : {}) };
}
