import { describe, expect, it } from 'vitest';
import { validateGitUrl } from './git-url.ts';

describe('validateGitUrl', () => {
  it('accepts https, ssh and scp-like remotes', () => {
    for (const url of ['https://github.com/org/repo.git', 'ssh://git@github.com/org/repo.git', 'git@github.com:org/repo.git']) {
      expect(validateGitUrl(url, { allowLocal: false })).toBe(url);
    }
  });

  it('accepts local paths only when allowed', () => {
    expect(validateGitUrl('/srv/repos/site', { allowLocal: true })).toBe('/srv/repos/site');
    expect(() => validateGitUrl('/srv/repos/site', { allowLocal: false })).toThrow(/unsupported git URL/);
    expect(() => validateGitUrl('file:///srv/repos/site', { allowLocal: false })).toThrow();
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
      expect(() => validateGitUrl(url, { allowLocal: true }), url).toThrow();
    }
  });
});
