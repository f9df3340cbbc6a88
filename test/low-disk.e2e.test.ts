import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';

// The low-disk floor on the real platform: with a floor no disk can meet, a deployment waits in
// the queue and says why through the API. (Pausing and resuming with an injected probe is in
// api-server/src/deployments/scheduler.test.ts.)

describe('builds wait while the build disk is low', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ BUILD_MIN_FREE_DISK: '1000000g' });
  }, 120_000);
  afterAll(async () => platform?.close());

  it('keeps the deployment QUEUED, with the reason on it', async () => {
    const project = await http(platform.api, 'POST', '/project', { name: 'low-disk', gitUrl: gitRepoFromFixture('vanilla-site') });
    const created = await http(platform.api, 'POST', '/deploy', { projectId: project.json.project.id });
    expect(created.status).toBe(202);
    const id = created.json.deployment.id as string;
    let deployment: { status: string; waitingReason?: string } | undefined;
    for (let i = 0; i < 100; i++) {
      deployment = (await http(platform.api, 'GET', `/deployments/${id}`)).json.deployment;
      if (deployment?.waitingReason) break;
      await sleep(100);
    }
    expect(deployment).toMatchObject({
      status: 'QUEUED',
      waitingReason: expect.stringMatching(
        /^waiting for disk space: builds are paused while the build disk has [\d.]+ \w+ free, less than the [\d.]+ \w+ the platform keeps free \(BUILD_MIN_FREE_DISK\)$/,
      ),
    });
  });
});
