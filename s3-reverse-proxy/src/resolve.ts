import type { Manifest, ManifestFile } from '@platform/contracts';

export type Resolution =
  | { kind: 'file'; path: string; file: ManifestFile; status: 200 | 404 }
  | { kind: 'not-found' }
  | { kind: 'bad-path' };

/**
 * Decodes a request path into a manifest key, refusing anything that could name a file
 * outside the deployment: `..` segments (raw or percent-encoded, once or twice), backslashes,
 * NUL and other control characters, and absurdly long paths.
 */
export function normalizeRequestPath(rawPath: string): string | null {
  if (rawPath.length > 2048) return null;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  // A second layer of encoding (%252e) is never legitimate in a static site path.
  if (/%2e|%2f|%5c|%00/i.test(path)) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return null;
  if (!path.startsWith('/')) return null;
  const segments = path.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  return path;
}

/**
 * Path resolution against the manifest: the exact file, then `path/index.html`, then
 * `path.html`, then the SPA fallback (`index.html`, status 200) when the project asks for
 * it, else the deployment's `404.html` with status 404.
 */
export function resolvePath(manifest: Manifest, rawPath: string, options: { spa: boolean }): Resolution {
  const path = normalizeRequestPath(rawPath);
  if (path === null) return { kind: 'bad-path' };
  const key = path.slice(1);
  const files = manifest.files;
  const candidates = key === '' || key.endsWith('/') ? [`${key}index.html`] : [key, `${key}/index.html`, `${key}.html`];
  for (const candidate of candidates) {
    const file = files[candidate];
    if (file) return { kind: 'file', path: candidate, file, status: 200 };
  }
  if (options.spa && files['index.html']) return { kind: 'file', path: 'index.html', file: files['index.html'], status: 200 };
  const notFound = files['404.html'];
  if (notFound) return { kind: 'file', path: '404.html', file: notFound, status: 404 };
  return { kind: 'not-found' };
}
