import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';

// The project's Node.js setting, end to end on the embedded platform: API → build task →
// the build-server's toolchain → the terminal status event → the deployment's row and API.
// Node.js 22 comes from the real npm registry (cached between runs by the build-server).
describe('a project that sets its Node.js version', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform();
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('validates the setting, builds with it, and shows the exact version on the deployment', async () => {
    const repo = gitRepoFromFixture('vanilla-site');
    const bad = await http(platform.api, 'POST', '/projects', { name: 'Node Pick', gitUrl: repo, nodeVersion: 'banana; rm -rf /' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('nodeVersion');

    const created = await http(platform.api, 'POST', '/projects', { name: 'Node Pick', gitUrl: repo, nodeVersion: '22' });
    expect(created.status).toBe(201);
    expect(created.json.project.nodeVersion).toBe('22');
    const projectId: string = created.json.project.id;

    const deploy = await http(platform.api, 'POST', '/deploy', { projectId });
    expect(deploy.status).toBe(202);
    expect(deploy.json.deployment.nodeVersion).toBeNull();
    const done = await waitForDeployment(platform.api, deploy.json.deployment.id, 120_000);
    expect(done.status, done.errorMessage ?? '').toBe('READY');
    expect(done.nodeVersion).toMatch(/^22\.\d+\.\d+$/);

    // Cleared with null: the repository decides again (vanilla-site asks for nothing: the image's Node.js).
    const cleared = await http(platform.api, 'PATCH', `/projects/${projectId}`, { nodeVersion: null });
    expect(cleared.json.project.nodeVersion).toBeNull();
    const again = await waitForDeployment(platform.api, (await http(platform.api, 'POST', '/deploy', { projectId })).json.deployment.id, 120_000);
    expect(again.status).toBe('READY');
    expect(again.nodeVersion).toBe(process.versions.node);

    // An unsupported major fails the build, naming the supported ones.
    await http(platform.api, 'PATCH', `/projects/${projectId}`, { nodeVersion: '16' });
    const old = await waitForDeployment(platform.api, (await http(platform.api, 'POST', '/deploy', { projectId })).json.deployment.id, 120_000);
    expect(old.status).toBe('ERROR');
    expect(old.errorMessage).toBe('the project setting asks for Node.js "16", which this platform does not build with; supported majors: 20, 22, 24, 26');
  });
});
