/** The longest request path (before decoding) the proxy looks at; longer ones answer 414. */
export const MAX_PATH_LENGTH = 2048;

export type NormalizedPath = string | 'too-long' | null;

/**
 * Decodes a request path (no query string) into a `/`-rooted path, refusing anything that
 * could name a file outside the deployment or that no build output can contain: `..` and `.`
 * segments (raw or percent-encoded, once or twice), backslashes, NUL and other control
 * characters, empty segments (`//`), invalid UTF-8 (overlong `%c0%ae` included), and paths
 * longer than `MAX_PATH_LENGTH` ('too-long'). Null means "bad request".
 *
 * This is the first of two fences: the proxy only ever reads object keys listed in the
 * deployment's manifest, and those keys are checked again when the manifest is compiled.
 */
export function normalizeRequestPath(rawPath: string): NormalizedPath {
  if (rawPath.length > MAX_PATH_LENGTH) return 'too-long';
  if (rawPath.charCodeAt(0) !== 47 /* / */) return null;
  let path: string;
  if (rawPath.includes('%')) {
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return null;
    }
    // A second layer of encoding (%252e, %255c, ...) is never legitimate in a static site path.
    if (/%(?:2e|2f|5c|00)/i.test(path)) return null;
  } else {
    path = rawPath;
  }
  return isSafeDecodedPath(path) ? path : null;
}

/** A decoded path is safe when it is `/`-rooted and has no dot segments, empty segments, backslashes or control characters. */
export function isSafeDecodedPath(path: string): boolean {
  if (path.charCodeAt(0) !== 47) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return false;
  if (path.includes('//')) return false;
  // Dot segments: `/./`, `/../`, and the same at the end of the path.
  if (/\/\.\.?(?:\/|$)/.test(path)) return false;
  return true;
}

/** True when a manifest key can be read below a deployment prefix without escaping it. */
export function isSafeManifestKey(key: string): boolean {
  return key.length > 0 && key.length <= 1024 && !key.startsWith('/') && !key.endsWith('/') && isSafeDecodedPath(`/${key}`);
}
