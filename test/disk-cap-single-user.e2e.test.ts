import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';

// Without a sandbox (single-user mode: no disk image can be mounted for the build), the build's
// disk cap still holds: its work folder is measured, and a build past BUILD_DISK ends in ERROR
// with the reason while another build beside it succeeds.

describe('the disk cap of a build without a sandbox', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ SANDBOX: 'off', BUILD_DISK: '64m', MAX_CONCURRENT_BUILDS: '2' });
  }, 120_000);
  afterAll(async () => platform?.close());

  async function build(name: string, greed: string) {
    const repo = gitRepoFromFixture('greedy-build');
    writeFileSync(join(repo, 'greed'), greed);
    gitCommitAll(repo, greed);
    const project = await http(platform.api, 'POST', '/project', { name, gitUrl: repo });
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: project.json.project.id });
    return waitForDeployment(platform.api, deploy.json.deployment.id, 120_000);
  }

  it('ends a build that writes past it in ERROR, and the build beside it is READY', async () => {
    const [greedy, beside] = await Promise.all([build('hog-disk-single', 'disk'), build('beside-single', 'nothing')]);
    expect(greedy.status).toBe('ERROR');
    expect(greedy.errorMessage).toBe('build command "npm run build" filled its disk (64 MiB)');
    expect(beside.status).toBe('READY');
  }, 180_000);
});
