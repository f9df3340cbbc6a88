import { describe, expect, it } from 'vitest';
import { validateGitUrl } from './git-url.ts';

describe('validateGitUrl', () => {
  it('accepts https, ssh and scp-like remotes', () => {
    for (const url of ['https://github.com/org/repo.git', 'ssh://git@github.com/org/repo.git', 'git@github.com:org/repo.git']) {
      expect(validateGitUrl(url, { localRoots: [] })).toBe(url);
    }
  });

  it('accepts local paths only when allowed', () => {
    expect(validateGitUrl('/srv/repos/site', { localRoots: ['/srv/repos'] })).toBe('/srv/repos/site');
    expect(() => validateGitUrl('/srv/repos/site', { localRoots: [] })).toThrow(/unsupported git URL/);
    expect(() => validateGitUrl('file:///srv/repos/site', { localRoots: [] })).toThrow();
    expect(() => validateGitUrl('http://127.0.0.1:8080/repo.git', { localRoots: [] })).toThrow();
  });

  it('refuses a local path outside the allowed folders, however it is spelled', () => {
    for (const url of ['/etc', '/srv/repos-other/x', '/srv/repos/../../root/.data', 'file:///srv/repos/../secrets', '/']) {
      expect(() => validateGitUrl(url, { localRoots: ['/srv/repos'] }), url).toThrow(/not under an allowed folder/);
    }
    expect(validateGitUrl('file:///srv/repos/a/b', { localRoots: ['/srv/repos'] })).toBe('file:///srv/repos/a/b');
  });

  it('refuses remote helpers, options and control characters before git runs', () => {
    for (const url of [
      'ext::sh -c touch% /tmp/pwned',
      'fd::17',
      '--upload-pack=touch /tmp/pwned',
      '-u touch',
      'https://github.com/org/repo.git\n--upload-pack=x',
      ' https://github.com/org/repo.git',
      'http://github.com/org/repo.git',
      'relative/path',
      'git@github.com:-oProxyCommand=x',
      'ssh://-oProxyCommand=touch%20x/repo',
      'https://-x/repo',
    ]) {
      expect(() => validateGitUrl(url, { localRoots: ['/srv/repos'] }), url).toThrow();
    }
  });
});
