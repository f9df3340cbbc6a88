import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { buildProcesses, buildServerProcess } from '@platform/testing/processes';

// What happens to a build the platform did not see end normally: killed, canceled, and the
// metrics that report it. Embedded default: builds are real child processes.
describe('build fate on the embedded default', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ RECONCILE_INTERVAL_MS: '1000', RECONCILE_SETTLE_MS: '1000', MAX_CONCURRENT_BUILDS: '4' });
  });
  afterAll(async () => {
    await platform?.close();
  });

  async function slowDeployment(name: string, delayMs = 120_000): Promise<string> {
    const repo = gitRepoFromFixture('slow-build');
    writeFileSync(join(repo, 'delay-ms'), String(delayMs));
    gitCommitAll(repo, 'delay');
    const project = await http(platform.api, 'POST', '/project', { name, gitUrl: repo });
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: project.json.project.id });
    return deploy.json.deployment.id as string;
  }

  /** Waits until the build runs its build command (its log says so). */
  async function waitUntilBuilding(id: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const logs = await http(platform.api, 'GET', `/deployments/${id}/logs`);
      if ((logs.json?.lines ?? []).some((l: { message: string }) => l.message.startsWith('slow build: working'))) return;
      await sleep(100);
    }
    throw new Error(`deployment ${id} never started its build command`);
  }

  it('ends a deployment in ERROR within 30 s when its build process is killed, and logs why', async () => {
    const id = await slowDeployment('killed');
    await waitUntilBuilding(id);
    const pid = buildServerProcess(id);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    const done = await waitForDeployment(platform.api, id, 30_000);
    expect(done.status).toBe('ERROR');
    expect(done.errorMessage).toBe('the build ended without reporting a result: build process was killed by SIGKILL');
    // The row ends first; the log line follows through the event stream.
    let lines: { seq: number; stream: string; message: string }[] = [];
    for (let i = 0; i < 100; i++) {
      lines = (await http(platform.api, 'GET', `/deployments/${id}/logs`)).json.lines;
      if (lines.at(-1)?.stream === 'system') break;
      await sleep(100);
    }
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ stream: 'system', message: done.errorMessage });
    // Numbered right after the build's own lines: no gap, no overlap.
    expect(lines.map((l) => l.seq)).toEqual([...new Set(lines.map((l) => l.seq))].sort((a, b) => a - b));
    expect(lines.some((l) => l.message.startsWith('slow build: working'))).toBe(true);
    // The user's build command, in a process group of its own, did not outlive the build.
    for (let i = 0; i < 50 && buildProcesses(id).length > 0; i++) await sleep(100);
    expect(buildProcesses(id)).toEqual([]);
  });

  it('cancels a running build: the process tree is gone and the deployment is CANCELED with the reason logged', async () => {
    const id = await slowDeployment('canceled');
    await waitUntilBuilding(id);
    expect(buildProcesses(id).length).toBeGreaterThan(1); // build-server, npm, sh, node build.mjs

    const res = await http(platform.api, 'POST', `/deployments/${id}/cancel`, { reason: 'wrong branch' });
    expect(res.status).toBe(202);
    expect((await http(platform.api, 'GET', `/deployments/${id}`)).json.deployment).toMatchObject({
      status: 'CANCELED',
      errorMessage: 'canceled: wrong branch',
    });

    for (let i = 0; i < 100 && buildProcesses(id).length > 0; i++) await sleep(100);
    expect(buildProcesses(id)).toEqual([]);
    let lines: { stream: string; message: string }[] = [];
    for (let i = 0; i < 100; i++) {
      lines = (await http(platform.api, 'GET', `/deployments/${id}/logs`)).json.lines;
      if (lines.at(-1)?.message === 'canceled: wrong branch') break;
      await sleep(100);
    }
    expect(lines.at(-1)).toMatchObject({ stream: 'system', message: 'canceled: wrong branch' });

    const again = await http(platform.api, 'POST', `/deployments/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'not_cancelable', message: 'the deployment already ended (CANCELED)' });
    expect((await http(platform.api, 'POST', '/deployments/nope/cancel')).status).toBe(404);
    const bad = await http(platform.api, 'POST', `/deployments/${id}/cancel`, { reason: 42 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('reason');
  });

  it('exports the queue length, running builds and build durations on /metrics', async () => {
    const id = await slowDeployment('metered', 100);
    await waitForDeployment(platform.api, id);
    const res = await fetch(`${platform.api}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const value = (line: RegExp) =>
      Number(
        text
          .split('\n')
          .find((l) => line.test(l))
          ?.split(' ')
          .at(-1),
      );
    expect(value(/^platform_build_queue_length /)).toBe(0);
    expect(value(/^platform_builds_running /)).toBe(0);
    // The killed and canceled builds of the tests above, and this one.
    expect(value(/^platform_build_duration_seconds_count\{status="READY"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(/^platform_build_duration_seconds_count\{status="ERROR"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(/^platform_build_duration_seconds_count\{status="CANCELED"\}/)).toBeGreaterThanOrEqual(1);
  });
});
