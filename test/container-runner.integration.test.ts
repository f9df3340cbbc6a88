import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessEventBus } from '@platform/event-bus';
import { createContainerRunner } from '@platform/runner';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

// The container runner with real podman: the build-server image is built by
// packages/runner/container/build-image.sh (a debootstrapped Debian base, no registry), and
// builds run in it with CPU, memory and process limits, no capabilities, a read-only root
// and no network. Needs podman, buildah, runc and debootstrap (INFRA-NOTES); fails, does not
// skip, without them.

const ROOT = join(import.meta.dirname, '..');
const IMAGE = 'localhost/platform-build-server:test';

describe('container runner (podman)', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    const podman = spawnSync('podman', ['--version'], { encoding: 'utf8' });
    if (podman.status !== 0) throw new Error('podman is not installed: apt-get install -y podman buildah runc debootstrap (see INFRA-NOTES)');
    execFileSync('bash', [join(ROOT, 'packages/runner/container/build-image.sh')], { env: { ...process.env, IMAGE }, stdio: ['ignore', 'ignore', 'inherit'] });
    platform = await startEmbeddedPlatform({
      RUNNER: 'container',
      CONTAINER_IMAGE: IMAGE,
      CONTAINER_NETWORK: 'none',
      CONTAINER_MEMORY: '512m',
      CONTAINER_CPUS: '1',
      CONTAINER_PIDS_LIMIT: '256',
      MAX_CONCURRENT_BUILDS: '3',
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_SETTLE_MS: '1000',
    });
  });
  const started: string[] = [];
  afterAll(async () => {
    // Containers outlive the runner by design; a failed test must not leave its build running.
    for (const id of started) spawnSync('podman', ['rm', '-f', `platform-build-${id}`]);
    await platform?.close();
  });

  /** A fixture repository the build's unprivileged user (uid 1000) can read through its read-only mount. */
  function readableRepo(fixture: string): string {
    const repo = gitRepoFromFixture(fixture);
    chmodSync(repo, 0o755); // mkdtemp makes it 0700
    return repo;
  }

  async function logLines(id: string): Promise<{ seq: number; stream: string; message: string }[]> {
    return (await http(platform.api, 'GET', `/deployments/${id}/logs`)).json.lines;
  }

  it('builds a site inside the container, within its limits, and serves it', async () => {
    const repo = readableRepo('cgroup-probe');
    const project = await http(platform.api, 'POST', '/project', { name: 'probe', gitUrl: repo });
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: project.json.project.id });
    const done = await waitForDeployment(platform.api, deploy.json.deployment.id, 120_000);
    const messages = (await logLines(done.id)).map((l) => l.message);
    expect(done.status, messages.join('\n')).toBe('READY');

    // Inside the container the user's commands run in the same bubblewrap sandbox as on the
    // local runner, as a uid apart from the build-server's, without /sys (the container's
    // cgroup limits hold them from outside).
    expect(messages.find((m) => m.startsWith('Sandbox: '))).toMatch(/^Sandbox: bubblewrap as uid 1001, its own pid, mount, ipc, uts and network namespaces/);
    expect(messages).toContain('probe: cgroup memory limit unknown');
    expect(messages).toContain('probe: uid 1001');
    expect(messages).toContain('probe: effective capabilities 0000000000000000');
    expect(messages).toContain('probe: root file system write refused (EROFS)');

    const page = await viaProxy(platform.proxyPort, 'probe.localhost');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Built in a container with unknown bytes of memory');
  });

  async function slowBuildRunning(name: string): Promise<string> {
    const repo = readableRepo('slow-build');
    writeFileSync(join(repo, 'delay-ms'), '300000');
    gitCommitAll(repo, 'delay');
    const project = await http(platform.api, 'POST', '/project', { name, gitUrl: repo });
    const id = (await http(platform.api, 'POST', '/deploy', { projectId: project.json.project.id })).json.deployment.id as string;
    started.push(id);
    for (let i = 0; i < 1200; i++) {
      const lines = await logLines(id);
      if (lines.some((l) => l.message.startsWith('slow build: working'))) break;
      const now = (await http(platform.api, 'GET', `/deployments/${id}`)).json.deployment;
      if (now.status !== 'QUEUED' && now.status !== 'BUILDING') throw new Error(`build ended early (${now.status}): ${lines.map((l) => l.message).join('\n')}`);
      await sleep(100);
    }
    return id;
  }

  it('ends a deployment in ERROR within 30 s when its container is killed', async () => {
    const id = await slowBuildRunning('doomed');
    execFileSync('podman', ['kill', `platform-build-${id}`]);
    const done = await waitForDeployment(platform.api, id, 30_000);
    expect(done.status).toBe('ERROR');
    expect(done.errorMessage).toBe(
      'the build ended without reporting a result: the build container was killed (exit code 137: SIGKILL, often the memory limit)',
    );
    // The row ends first; the log line follows through the event stream.
    let last = (await logLines(id)).at(-1);
    for (let i = 0; i < 100 && last?.stream !== 'system'; i++) {
      await sleep(100);
      last = (await logLines(id)).at(-1);
    }
    expect(last).toMatchObject({ stream: 'system', message: done.errorMessage });
    // --rm: nothing is left behind.
    expect(spawnSync('podman', ['container', 'exists', `platform-build-${id}`]).status).toBe(1);
  });

  it('finds a container left by an earlier api-server process and can stop it', async () => {
    const id = await slowBuildRunning('left-behind');
    // A runner as a restarted api-server has it: it never started this container.
    const fresh = createContainerRunner({
      engine: 'podman',
      image: IMAGE,
      limits: { cpus: 1, memory: '512m', pids: 256, scratchSize: '1g' },
      eventBus: createInProcessEventBus(),
    });
    const name = `platform-build-${id}`;
    expect(await fresh.describe(name)).toEqual({ state: 'running', orphaned: true });
    await fresh.stop(name, 'orphaned');
    for (let i = 0; i < 100 && spawnSync('podman', ['container', 'exists', name]).status === 0; i++) await sleep(100);
    expect(spawnSync('podman', ['container', 'exists', name]).status).toBe(1);
    expect(await fresh.describe(name)).toEqual({ state: 'unknown' });
    // The platform's own runner saw its container die: the deployment ends, it does not hang.
    expect((await waitForDeployment(platform.api, id, 30_000)).status).toBe('ERROR');
  });
});
