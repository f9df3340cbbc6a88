/**
 * The deploy key the platform generates (in Node, no ssh-keygen) works with real OpenSSH:
 * ssh-keygen reads both halves, and Debian's sshd with git-shell lets the build-server's
 * clone in with it, and nobody without it.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneRepository } from '@platform/build-server';
import { repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { HOST_ENV } from '@platform/testing/infra-env';
import { startSshGitServer, type SshGitServer } from '@platform/testing/ssh-git-server';
import { generateDeployKey } from './ssh-keys.ts';

describe('generated deploy keys', () => {
  const key = generateDeployKey('deploy-site');
  let server: SshGitServer;
  let bare: string;
  beforeAll(async () => {
    const root = tempDir('ssh-root');
    bare = join(root, 'site.git');
    execFileSync('git', ['clone', '--quiet', '--bare', repoFromFixture(null, { 'index.html': '<p>deploy key</p>' }), bare]);
    server = await startSshGitServer(key.publicKey);
  }, 60_000);
  afterAll(() => server?.close());

  it('are a key pair OpenSSH reads: the public half derives from the private one', () => {
    expect(key.publicKey).toMatch(/^ecdsa-sha2-nistp256 [A-Za-z0-9+/=]+ deploy-site$/);
    const file = join(tempDir('key'), 'id');
    writeFileSync(file, key.privateKey, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
    expect(derived.split(' ').slice(0, 2)).toEqual(key.publicKey.split(' ').slice(0, 2));
  });

  it('let the clone into an sshd that authorizes the public half; another key is refused', async () => {
    const options = { url: `${server.url}${bare}`, env: { PATH: HOST_ENV.PATH ?? '/usr/bin:/bin', HOME: tempDir('home') }, localRoots: [], timeoutMs: 30_000 };
    const cloned = await cloneRepository({ ...options, dir: tempDir('clone'), sshKey: key.privateKey, keyDir: tempDir('keys') });
    expect(cloned.commit).toMatch(/^[0-9a-f]{40}$/);
    const other = generateDeployKey('other');
    await expect(cloneRepository({ ...options, dir: tempDir('clone'), sshKey: other.privateKey, keyDir: tempDir('keys') })).rejects.toThrow(
      /Permission denied/,
    );
  });
});
