import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

// The walking skeleton end to end on the embedded default: REST API → scheduler → local
// runner → build-server child process → object store → route records → proxy.
describe('deploy path on the embedded default', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform();
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('builds a project from git and serves it through the proxy by Host header', async () => {
    const repo = gitRepoFromFixture('vanilla-site');
    const created = await http(platform.api, 'POST', '/project', { name: 'Vanilla Site', gitUrl: repo });
    expect(created.status).toBe(201);
    expect(created.json.project).toMatchObject({ slug: 'vanilla-site', url: `http://vanilla-site.localhost:${platform.proxyPort}` });

    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: created.json.project.id });
    expect(deploy.status).toBe(202);
    expect(deploy.json.deployment.status).toBe('QUEUED');

    const done = await waitForDeployment(platform.api, deploy.json.deployment.id);
    expect(done.status).toBe('READY');
    expect(done.commit).toMatch(/^[0-9a-f]{40}$/);

    const home = await viaProxy(platform.proxyPort, 'vanilla-site.localhost');
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(home.text).toContain('Vanilla fixture home');

    const css = await viaProxy(platform.proxyPort, `vanilla-site.localhost:${platform.proxyPort}`, '/app.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.text).toContain('rebeccapurple');
    expect((await viaProxy(platform.proxyPort, 'vanilla-site.localhost', '/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await viaProxy(platform.proxyPort, 'vanilla-site.localhost', '/data.json')).json).toEqual({ built: true });

    // Folders serve their index.html, with and without the trailing slash.
    expect((await viaProxy(platform.proxyPort, 'vanilla-site.localhost', '/docs/')).text).toContain('Docs index');
    expect((await viaProxy(platform.proxyPort, 'vanilla-site.localhost', '/docs')).text).toContain('Docs index');

    // The deployment's own immutable hostname serves it too.
    const ownHost = new URL(done.url).host;
    expect((await viaProxy(platform.proxyPort, ownHost)).text).toContain('Vanilla fixture home');

    // Unknown file and unknown host: a 404 page, and the proxy keeps serving.
    const missing = await viaProxy(platform.proxyPort, 'vanilla-site.localhost', '/no/such/page');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('text/html');
    const unknown = await viaProxy(platform.proxyPort, 'nobody.localhost');
    expect(unknown.status).toBe(404);
    expect((await viaProxy(platform.proxyPort, 'vanilla-site.localhost')).status).toBe(200);

    // Every line the build printed is in the log, in seq order.
    const logs = await http(platform.api, 'GET', `/deployments/${done.id}/logs`);
    const lines = logs.json.lines as { seq: number; stream: string; message: string }[];
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', message: 'copied src to dist' }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stderr', message: 'a warning on stderr' }));
  });

  it('ends a failing build in ERROR with the failing command’s stderr in the logs', async () => {
    const repo = gitRepoFromFixture('failing-build');
    const created = await http(platform.api, 'POST', '/project', { name: 'failing', gitUrl: repo });
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: created.json.project.id });
    const done = await waitForDeployment(platform.api, deploy.json.deployment.id);
    expect(done.status).toBe('ERROR');
    expect(done.errorMessage).toBe('build command "npm run build" exited with code 1');

    const logs = await http(platform.api, 'GET', `/deployments/${done.id}/logs`);
    const lines = logs.json.lines as { stream: string; message: string }[];
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stderr', message: 'Error: Cannot find module "./missing-component"' }));
    // Nothing was published: the project's hostname is not served.
    expect((await viaProxy(platform.proxyPort, 'failing.localhost')).status).toBe(404);
  });

  it('answers invalid bodies with 400 naming the field', async () => {
    const noName = await http(platform.api, 'POST', '/project', { gitUrl: 'https://github.com/a/b.git' });
    expect(noName.status).toBe(400);
    expect(noName.json.error.message).toContain('name');

    const hostile = await http(platform.api, 'POST', '/project', { name: 'evil', gitUrl: 'ext::sh -c touch% /tmp/pwned' });
    expect(hostile.status).toBe(400);
    expect(hostile.json.error.message).toContain('gitUrl');

    const badDeploy = await http(platform.api, 'POST', '/deploy', { projectId: 42 });
    expect(badDeploy.status).toBe(400);
    expect(badDeploy.json.error.message).toContain('projectId');

    const notJson = await http(platform.api, 'POST', '/deploy', '{not json');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe('invalid_json');

    expect((await http(platform.api, 'POST', '/deploy', { projectId: 'prj_missing' })).status).toBe(404);
    expect((await http(platform.api, 'GET', '/deployments/nope')).status).toBe(404);
  });
});
