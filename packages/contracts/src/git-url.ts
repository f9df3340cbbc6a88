import { isAbsolute, relative, resolve } from 'node:path';

export interface GitUrlPolicy {
  /**
   * Folders the operator lets tenants build from by local path (`LOCAL_GIT_ROOTS`). Empty: no
   * local path, no `file://` and no loopback http remote is accepted.
   */
  localRoots: readonly string[];
}

/** True when `path` (absolute) is one of `roots` or inside one, after `..` is resolved. */
export function isUnderRoots(path: string, roots: readonly string[]): boolean {
  const full = resolve(path);
  return roots.some((root) => {
    const rel = relative(resolve(root), full);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  });
}

/**
 * Accepts https and ssh remotes (and local paths under an allowed root); refuses anything git
 * would treat as an option or a remote helper (`ext::`, `--upload-pack=...`, `-x`) before
 * git ever runs. The supervisor checks a local path again after following its symlinks.
 */
export function validateGitUrl(url: string, policy: GitUrlPolicy): string {
  const allowLocal = policy.localRoots.length > 0;
  if (url !== url.trim() || /[\0\r\n]/.test(url)) throw new Error('git URL contains whitespace or control characters');
  if (url.startsWith('-')) throw new Error('git URL must not start with "-"');
  if (/^[a-z][a-z0-9+.-]*::/i.test(url)) throw new Error('git remote helpers (such as ext::) are not allowed');
  if (/^https:\/\/[^\s/-][^\s/]*\/\S+$/i.test(url)) return url;
  if (/^ssh:\/\/(?:[^\s/@-][^\s/@]*@)?[^\s/@-][^\s/]*\/\S+$/i.test(url)) return url;
  if (/^[a-z0-9._-]+@[a-z0-9.-]+:[^\s-][^\s]*$/i.test(url)) return url; // scp-like: git@github.com:org/repo.git
  if (allowLocal) {
    // A git server on this machine (embedded default, tests) may speak plain http.
    if (/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/\S+$/i.test(url)) return url;
    const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
    if (isAbsolute(path)) {
      if (isUnderRoots(path, policy.localRoots)) return url;
      throw new Error(`local git path ${JSON.stringify(url.slice(0, 200))} is not under an allowed folder (${policy.localRoots.join(', ')})`);
    }
  }
  throw new Error(
    `unsupported git URL ${JSON.stringify(url.slice(0, 200))}: use https:// or ssh${allowLocal ? ', or a local path under an allowed folder' : ''}`,
  );
}
