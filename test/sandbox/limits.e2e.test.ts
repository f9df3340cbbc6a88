import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';
import { processesWith } from './hostile-scenario.ts';
import { runSandboxSuites } from './sandbox-required.ts';

// A build that fills its memory, its process table or its disk ends in ERROR with the reason,
// and the platform and the next build carry on. Small limits, so each is reached in seconds.

describe.skipIf(!runSandboxSuites)('a build that exceeds its limits', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ BUILD_MEMORY: '512m', BUILD_PIDS_LIMIT: '64', BUILD_DISK: '128m', MAX_CONCURRENT_BUILDS: '3' });
  }, 120_000);
  afterAll(async () => platform?.close());

  async function build(name: string, greed: string) {
    const repo = gitRepoFromFixture('greedy-build');
    writeFileSync(join(repo, 'greed'), greed);
    gitCommitAll(repo, greed);
    const project = await http(platform.api, 'POST', '/project', { name, gitUrl: repo });
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: project.json.project.id });
    const done = await waitForDeployment(platform.api, deploy.json.deployment.id, 120_000);
    const lines = (await http(platform.api, 'GET', `/deployments/${done.id}/logs`)).json.lines as { stream: string; message: string }[];
    return { ...done, log: lines.map((l) => `[${l.stream}] ${l.message}`).join('\n') };
  }

  it('ends in ERROR with a clear reason for memory, processes and disk, all at once, and the next build works', async () => {
    const [memory, processes, disk] = await Promise.all([build('hog-memory', 'memory'), build('hog-processes', 'processes'), build('hog-disk', 'disk')]);
    expect(memory.status).toBe('ERROR');
    expect(memory.errorMessage, memory.log).toBe('build command "npm run build" ran out of memory (limit 512 MiB)');
    expect(processes.status).toBe('ERROR');
    expect(processes.errorMessage, processes.log).toBe('build command "npm run build" started more processes than its limit of 64 allows');
    expect(disk.status).toBe('ERROR');
    expect(disk.errorMessage, disk.log).toBe('build command "npm run build" filled its disk (128 MiB)');
    // Nothing of the fork bomb is left.
    expect(processesWith('sleep 300')).toEqual([]);
    const modest = await build('modest', 'nothing');
    expect(modest.status).toBe('READY');
    expect((await viaProxy(platform.proxyPort, 'modest.localhost')).text).toContain('modest build');
  }, 180_000);

  it('counts /tmp and the home folder against the disk cap: past it the build ends in ERROR while another build beside it succeeds', async () => {
    const [spread, beside] = await Promise.all([build('hog-spread', 'disk-spread'), build('beside', 'nothing')]);
    expect(spread.status).toBe('ERROR');
    expect(spread.errorMessage, spread.log).toBe('build command "npm run build" filled its disk (128 MiB)');
    expect(beside.status, beside.log).toBe('READY');
    expect((await viaProxy(platform.proxyPort, 'beside.localhost')).text).toContain('modest build');
  }, 180_000);
});
