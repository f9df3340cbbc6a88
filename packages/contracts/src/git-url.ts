import { isAbsolute } from 'node:path';

/**
 * Accepts https and ssh remotes (and local paths when `allowLocal`); refuses anything git
 * would treat as an option or a remote helper (`ext::`, `--upload-pack=...`, `-x`) before
 * git ever runs.
 */
export function validateGitUrl(url: string, options: { allowLocal: boolean }): string {
  if (url !== url.trim() || /[\0\r\n]/.test(url)) throw new Error('git URL contains whitespace or control characters');
  if (url.startsWith('-')) throw new Error('git URL must not start with "-"');
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) throw new Error('git remote helpers (such as ext::) are not allowed');
  if (/^https:\/\/[^\s/-][^\s/]*\/\S+$/i.test(url)) return url;
  if (/^ssh:\/\/(?:[^\s/@-][^\s/@]*@)?[^\s/@-][^\s/]*\/\S+$/i.test(url)) return url;
  if (/^[a-z0-9._-]+@[a-z0-9.-]+:[^\s-][^\s]*$/i.test(url)) return url; // scp-like: git@github.com:org/repo.git
  if (options.allowLocal) {
    // A git server on this machine (embedded default, tests) may speak plain http.
    if (/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/\S+$/i.test(url)) return url;
    if (url.startsWith('file://') && isAbsolute(url.slice('file://'.length))) return url;
    if (isAbsolute(url)) return url;
  }
  throw new Error(
    `unsupported git URL ${JSON.stringify(url.slice(0, 200))}: use https:// or ssh${options.allowLocal ? ', or an absolute local path' : ''}`,
  );
}
