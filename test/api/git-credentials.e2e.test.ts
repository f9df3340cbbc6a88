/**
 * A project's own credentials for a git host other than GitHub, end to end on the embedded
 * platform: an HTTPS token (a real git smart-HTTP server that demands it) and a deploy key the
 * platform generates (Debian's sshd with git-shell, authorizing only its public half). The
 * credential reaches the build's supervisor only; a wrong one ends in ERROR naming it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { startGitHttpServer, type GitHttpServer } from '@platform/testing/git-http-server';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';
import { startSshGitServer, type SshGitServer } from '@platform/testing/ssh-git-server';

const TOKEN = 'glpat-project-token-0123456789';

describe('per-project git credentials (HTTPS token, generated SSH deploy key)', () => {
  let platform: TestPlatform;
  let gitServer: GitHttpServer;
  let sshServer: SshGitServer | undefined;
  let bare: string;
  let root: string;

  beforeAll(async () => {
    root = tempDir('creds-git');
    bare = join(root, 'site.git');
    execFileSync('git', ['clone', '--quiet', '--bare', repoFromFixture(null, { 'index.html': '<p>private via credentials</p>' }), bare]);
    [platform, gitServer] = await Promise.all([startEmbeddedPlatform(), startGitHttpServer(root, TOKEN)]);
  }, 120_000);
  afterAll(async () => {
    await platform?.close();
    await gitServer?.close();
    await sshServer?.close();
  });

  const deployAndWait = async (projectId: string) => {
    const started = await http(platform.api, 'POST', '/deploy', { projectId });
    expect(started.status).toBe(202);
    return waitForDeployment(platform.api, started.json.deployment.id);
  };

  it('clones over HTTPS with the stored token; a wrong token ends in ERROR naming it, never showing it', async () => {
    const project = (await http(platform.api, 'POST', '/projects', { name: 'token-site', gitUrl: `${gitServer.url}/site.git` })).json.project;
    const none = await deployAndWait(project.id);
    expect(none.status).toBe('ERROR');
    expect(none.errorMessage).toMatch(/the repository needs credentials and the project has none/);

    const wrong = 'glpat-wrong-token-999999';
    expect((await http(platform.api, 'PUT', `/projects/${project.id}/git-credentials`, { kind: 'https-token', token: wrong })).status).toBe(200);
    const refused = await deployAndWait(project.id);
    expect(refused.status).toBe('ERROR');
    expect(refused.errorMessage).toMatch(/the git host refused the HTTPS token/);
    expect(JSON.stringify(refused)).not.toContain(wrong);

    const set = await http(platform.api, 'PUT', `/projects/${project.id}/git-credentials`, { kind: 'https-token', token: TOKEN });
    expect(set.json.credentials).toMatchObject({ kind: 'https-token', publicKey: null });
    expect(set.text).not.toContain(TOKEN);
    expect((await http(platform.api, 'GET', `/projects/${project.id}/git-credentials`)).text).not.toContain(TOKEN);
    const ready = await deployAndWait(project.id);
    expect(ready.status, ready.errorMessage ?? '').toBe('READY');
    expect((await viaProxy(platform.proxyPort, `${project.slug}.localhost`, '/')).text).toContain('private via credentials');
    expect((await http(platform.api, 'GET', `/deployments/${ready.id}/logs`)).text).not.toContain(TOKEN);

    // Another account cannot read, replace or remove it.
    const stranger = await platform.signup();
    const auth = { authorization: `Bearer ${stranger.token}` };
    expect((await http(platform.api, 'GET', `/projects/${project.id}/git-credentials`, undefined, auth)).status).toBe(404);
    expect((await http(platform.api, 'PUT', `/projects/${project.id}/git-credentials`, { kind: 'ssh-key' }, auth)).status).toBe(404);
    expect((await http(platform.api, 'DELETE', `/projects/${project.id}/git-credentials`, undefined, auth)).status).toBe(404);
  });

  it('generates a deploy key whose public half opens an ssh server; the build clones with it', async () => {
    const placeholder = (await http(platform.api, 'POST', '/projects', { name: 'ssh-site', gitUrl: 'ssh://git@example.invalid/site.git' })).json.project;
    const generated = await http(platform.api, 'PUT', `/projects/${placeholder.id}/git-credentials`, { kind: 'ssh-key' });
    expect(generated.status).toBe(200);
    const publicKey: string = generated.json.credentials.publicKey;
    expect(publicKey).toMatch(/^ecdsa-sha2-nistp256 /);
    expect(generated.text).not.toContain('PRIVATE KEY');
    sshServer = await startSshGitServer(publicKey);
    const patched = await http(platform.api, 'PATCH', `/projects/${placeholder.id}`, { gitUrl: `${sshServer.url}${bare}` });
    expect(patched.status, patched.text).toBe(200);
    const ready = await deployAndWait(placeholder.id);
    expect(ready.status, ready.errorMessage ?? '').toBe('READY');
    expect((await http(platform.api, 'GET', `/deployments/${ready.id}/logs`)).text).not.toContain('PRIVATE KEY');

    // The key removed: the ssh server refuses the clone, and the error says what is missing.
    expect((await http(platform.api, 'DELETE', `/projects/${placeholder.id}/git-credentials`)).status).toBe(204);
    const without = await deployAndWait(placeholder.id);
    expect(without.status).toBe('ERROR');
    expect(without.errorMessage).toMatch(/the ssh remote needs a deploy key and the project has none/);
  });
});
