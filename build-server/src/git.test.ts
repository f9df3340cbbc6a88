import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateGitUrl } from '@platform/contracts';
import { git, removeTempDirs, repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { startGitHttpServer } from '@platform/testing/git-http-server';
import { cloneRepository, gitEnvironment, GitInputError, validateRef } from './git.ts';

afterAll(removeTempDirs);

const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tempDir('home') });

/** A stand-in for git that records that it ran. */
function recordingGit(): { binary: string; ran: () => boolean } {
  const dir = tempDir('fakegit');
  const marker = join(dir, 'ran');
  const binary = join(dir, 'git');
  writeFileSync(binary, `#!/bin/sh\necho "$@" >> ${marker}\nexit 1\n`);
  chmodSync(binary, 0o755);
  return { binary, ran: () => existsSync(marker) };
}

describe('git URL and ref validation', () => {
  const pwned = '/tmp/pwned-by-git-url';
  it.each([
    [`ext::sh -c touch% ${pwned}`, false],
    ['EXT::sh -c id', false],
    ['fd::17', false],
    ['--upload-pack=touch /tmp/pwned', false],
    ['-u touch /tmp/pwned', false],
    ['--config=core.sshCommand=touch /tmp/pwned', false],
    ['ssh://-oProxyCommand=touch%20/tmp/pwned/repo', false],
    ['ssh://-oProxyCommand=x@host/repo', false],
    ['file:///etc', false],
    ['/srv/repos/site.git', false],
    ['http://example.com/org/repo.git', false],
    ['http://127.0.0.1:9/repo.git', false],
    ['https://github.com/org/repo.git\n--upload-pack=x', false],
    [' https://github.com/org/repo.git', false],
    ['git://github.com/org/repo.git', false],
    ['file://relative/path.git', true],
    ['relative/path.git', true],
    ['http://evil.example/repo.git', true],
  ])('rejects %j (local paths allowed: %s) before git runs', async (url, allowLocal) => {
    const fake = recordingGit();
    await expect(
      cloneRepository({ url, dir: tempDir('clone'), env: env(), localRoots: allowLocal ? ['/srv/repos'] : [], timeoutMs: 10_000, gitBinary: fake.binary }),
    ).rejects.toThrow(GitInputError);
    expect(fake.ran()).toBe(false);
  });

  it('a hostile ext:: URL runs nothing, even with the real git on PATH', async () => {
    const marker = join(tempDir('ext'), 'pwned');
    await expect(
      cloneRepository({ url: `ext::sh -c touch% ${marker}`, dir: tempDir('clone'), env: env(), localRoots: ['/'], timeoutMs: 10_000 }),
    ).rejects.toThrow('git remote helpers (such as ext::) are not allowed');
    expect(existsSync(marker)).toBe(false);
  });

  it('rejects hostile refs and commits before git runs', async () => {
    for (const ref of ['--upload-pack=touch x', '-x', 'a..b', 'a b', 'a~1', 'a^', 'a:b', 'refs/heads/x.lock', 'a@{0}', 'x\\y', '/abs', 'trailing/']) {
      expect(() => validateRef(ref)).toThrow(GitInputError);
      const fake = recordingGit();
      await expect(
        cloneRepository({
          url: 'https://github.com/org/repo.git',
          ref,
          dir: tempDir('clone'),
          env: env(),
          localRoots: [],
          timeoutMs: 10_000,
          gitBinary: fake.binary,
        }),
      ).rejects.toThrow(GitInputError);
      expect(fake.ran()).toBe(false);
    }
    const fake = recordingGit();
    await expect(
      cloneRepository({
        url: 'https://github.com/org/repo.git',
        commit: '--upload-pack=x',
        dir: tempDir('clone'),
        env: env(),
        localRoots: [],
        timeoutMs: 10_000,
        gitBinary: fake.binary,
      }),
    ).rejects.toThrow(GitInputError);
    expect(fake.ran()).toBe(false);
    expect(validateRef('feature/login-v2')).toBe('feature/login-v2');
  });

  it('accepts https, ssh and scp-like remotes; local ones only when allowed', () => {
    for (const url of ['https://github.com/org/repo.git', 'ssh://git@github.com/org/repo.git', 'git@github.com:org/repo.git']) {
      expect(validateGitUrl(url, { localRoots: [] })).toBe(url);
    }
    expect(validateGitUrl('/srv/repo', { localRoots: ['/srv'] })).toBe('/srv/repo');
    expect(validateGitUrl('http://127.0.0.1:8080/repo.git', { localRoots: ['/srv'] })).toBe('http://127.0.0.1:8080/repo.git');
  });
});

describe('cloneRepository', () => {
  it('checks out the exact commit asked for, shallow, or the tip of a branch', async () => {
    const repo = repoFromFixture('plain-html');
    const first = git(repo, 'rev-parse', 'HEAD');
    writeFileSync(join(repo, 'index.html'), 'second version');
    git(repo, 'commit', '--quiet', '-am', 'second');
    git(repo, 'checkout', '--quiet', '-b', 'feature');
    writeFileSync(join(repo, 'index.html'), 'feature version');
    git(repo, 'commit', '--quiet', '-am', 'feature');
    const featureTip = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'checkout', '--quiet', 'main');

    const atCommit = tempDir('clone');
    expect(await cloneRepository({ url: repo, commit: first, dir: atCommit, env: env(), localRoots: ['/'], timeoutMs: 30_000 })).toMatchObject({
      commit: first,
    });
    expect(readFileSync(join(atCommit, 'index.html'), 'utf8')).toContain('Plain HTML fixture');

    const atShort = tempDir('clone');
    expect((await cloneRepository({ url: repo, commit: first.slice(0, 10), dir: atShort, env: env(), localRoots: ['/'], timeoutMs: 30_000 })).commit).toBe(
      first,
    );

    const atBranch = tempDir('clone');
    expect(await cloneRepository({ url: repo, ref: 'feature', dir: atBranch, env: env(), localRoots: ['/'], timeoutMs: 30_000 })).toMatchObject({
      commit: featureTip,
    });
    expect(readFileSync(join(atBranch, 'index.html'), 'utf8')).toBe('feature version');
    // Shallow: the commit and its parent (for an ignored build step's diff), of the branch's three.
    expect(git(atBranch, 'rev-list', '--count', 'HEAD')).toBe('2');

    await expect(
      cloneRepository({ url: repo, ref: 'no-such-branch', dir: tempDir('clone'), env: env(), localRoots: ['/'], timeoutMs: 30_000 }),
    ).rejects.toThrow(/git fetch: .*no-such-branch/);
  });

  it('clones a private repository with a token sent as a header, never in the URL, and leaves no trace of it', async () => {
    const root = tempDir('gitroot');
    const source = repoFromFixture('plain-html');
    git(root, 'clone', '--quiet', '--bare', source, join(root, 'site.git'));
    const token = 'ghp_private-token-value-123';
    const server = await startGitHttpServer(root, token);
    try {
      // Without the token the server refuses.
      await expect(cloneRepository({ url: `${server.url}/site.git`, dir: tempDir('clone'), env: env(), localRoots: ['/'], timeoutMs: 30_000 })).rejects.toThrow(
        /git fetch/,
      );

      const dir = tempDir('clone');
      const { commit } = await cloneRepository({ url: `${server.url}/site.git`, token, dir, env: env(), localRoots: ['/'], timeoutMs: 30_000 });
      expect(commit).toBe(git(source, 'rev-parse', 'HEAD'));
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('Plain HTML fixture');
      expect(server.authHeaders.at(-1)).toBe(`Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
      expect(server.requestUrls.join('\n')).not.toContain(token);
      // Nothing in the checkout remembers the token: the user's commands run there next.
      expect(git(dir, 'config', '--list', '--local')).not.toContain(token);
      expect(readFileSync(join(dir, '.git', 'config'), 'utf8')).not.toContain('extraheader');
    } finally {
      await server.close();
    }
  });

  it('gives git a closed environment: no system or global config, only allowed transports', () => {
    const e = gitEnvironment({ PATH: '/bin', HOME: '/h', token: 't0ken', allowLocal: false });
    expect(e).toMatchObject({ GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_ALLOW_PROTOCOL: 'https:ssh', GIT_TERMINAL_PROMPT: '0' });
    expect(
      Object.keys(e)
        .filter((k) => !k.startsWith('GIT_') && !k.startsWith('SSH_'))
        .sort(),
    ).toEqual(['HOME', 'PATH']);
  });
});

describe('clone progress', () => {
  it('reports git progress while fetching a real repository', async () => {
    const repo = repoFromFixture('vite-app');
    const lines: string[] = [];
    await cloneRepository({ url: repo, dir: tempDir('clone'), env: env(), localRoots: ['/'], timeoutMs: 30_000, onProgress: (l) => lines.push(l) });
    expect(lines.some((l) => /^Clone: (Receiving objects|Counting objects|Enumerating objects).*done\.?$/.test(l))).toBe(true);
  });

  it('a clone that times out names how far it got', async () => {
    // A git that reports a quarter of the objects received, then stalls.
    const dir = tempDir('slowgit');
    const binary = join(dir, 'git');
    writeFileSync(
      binary,
      `#!/bin/sh\nif [ "$1" = fetch ]; then printf 'Receiving objects:  25%% (250/1000), 3.00 MiB | 1.50 MiB/s\\r' >&2; exec sleep 30; fi\nexit 0\n`,
    );
    chmodSync(binary, 0o755);
    const lines: string[] = [];
    const cloning = cloneRepository({
      url: 'https://example.com/big.git',
      dir: tempDir('clone'),
      env: env(),
      localRoots: [],
      timeoutMs: 1_500,
      gitBinary: binary,
      onProgress: (l) => lines.push(l),
    });
    await expect(cloning).rejects.toThrow('git fetch: timed out (got as far as: Receiving objects:  25% (250/1000), 3.00 MiB | 1.50 MiB/s)');
    expect(lines).toEqual(['Clone: Receiving objects:  25% (250/1000), 3.00 MiB | 1.50 MiB/s']);
  });
});
