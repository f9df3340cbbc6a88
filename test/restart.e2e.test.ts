import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, signUpDefaultUser, waitForDeployment } from '@platform/testing/http';
import { buildProcesses, buildServerProcess } from '@platform/testing/processes';
import { freePort } from '@platform/testing/ports';

// The api-server as its own process (its real entry point, `api-server/src/main.ts`), killed
// with SIGKILL while two builds run and two wait in the queue, then started again on the
// same data folder. Nothing may stay QUEUED or BUILDING, and each end must be true: the
// interrupted builds end ERROR (their processes, orphaned by the kill, are stopped), the
// queued ones are built and READY. And nothing of the killed builds stays on disk: their
// scratch folders (clone, caches, home) are swept once their processes are stopped.

const ROOT = join(import.meta.dirname, '..');

describe('api-server restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-restart-'));
  const scratchDir = mkdtempSync(join(tmpdir(), 'platform-restart-scratch-'));
  let server: ChildProcess | undefined;
  let api = '';

  async function startApi(port: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'api-server/src/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATA_DIR: dataDir,
        BUILD_SCRATCH_DIR: scratchDir,
        API_PORT: String(port),
        MAX_CONCURRENT_BUILDS: '2',
        RECONCILE_INTERVAL_MS: '1000',
        RECONCILE_SETTLE_MS: '1000',
        LOG_LEVEL: 'warn',
        ALLOW_LOCAL_GIT: 'true',
        LOCAL_GIT_ROOTS: tmpdir(),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4_000)));
    api = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`api-server exited with ${child.exitCode}: ${stderr}`);
      if (
        await fetch(`${api}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return child;
      await sleep(100);
    }
    throw new Error(`api-server did not start: ${stderr}`);
  }

  afterAll(async () => {
    // A SIGKILLed child has a signalCode and no exitCode: only a live one is waited for.
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server!.once('exit', resolve));
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratchDir, { recursive: true, force: true });
  });

  it('brings every deployment to a true terminal state after a SIGKILL during builds', async () => {
    const port = await freePort();
    server = await startApi(port);
    // The access token stays valid across the restart: the signing key is kept under DATA_DIR.
    await signUpDefaultUser(api);

    const deploy = async (fixture: string, name: string, delayMs?: number) => {
      const repo = gitRepoFromFixture(fixture);
      if (delayMs !== undefined) {
        writeFileSync(join(repo, 'delay-ms'), String(delayMs));
        gitCommitAll(repo, 'delay');
      }
      const project = await http(api, 'POST', '/project', { name, gitUrl: repo });
      const created = await http(api, 'POST', '/deploy', { projectId: project.json.project.id });
      expect(created.status).toBe(202);
      return created.json.deployment.id as string;
    };
    const running = [await deploy('slow-build', 'run-a', 300_000), await deploy('slow-build', 'run-b', 300_000)];
    const queued = [await deploy('vanilla-site', 'queued-a'), await deploy('vanilla-site', 'queued-b')];

    // Both slow builds run their (quiet) build command; the other two wait for a slot. A build
    // writing output when the api-server dies gets EPIPE and dies with it; that path ends
    // the same way (ERROR), through "its task is gone".
    for (const id of running) {
      for (let i = 0; i < 900; i++) {
        const lines = (await http(api, 'GET', `/deployments/${id}/logs`)).json?.lines ?? [];
        if (lines.some((l: { message: string }) => l.message.startsWith('slow build: working'))) break;
        await sleep(100);
      }
      expect(buildServerProcess(id)).toBeGreaterThan(0);
    }
    for (const id of queued) expect((await http(api, 'GET', `/deployments/${id}`)).json.deployment.status).toBe('QUEUED');
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/^platform_build_queue_length 2$/m);
    expect(metrics).toMatch(/^platform_builds_running 2$/m);

    // Each running build has its folder in the scratch root, named by its deployment.
    expect(
      readdirSync(scratchDir)
        .map((name) => /^build-([a-z0-9]+)-/.exec(name)?.[1])
        .sort(),
    ).toEqual([...running].sort());
    server.kill('SIGKILL');
    await new Promise((resolve) => server!.once('exit', resolve));
    // The builds outlive the api-server (their own process groups), with nobody reading their output.
    for (const id of running) expect(buildProcesses(id).length).toBeGreaterThan(0);

    server = await startApi(port);
    for (const id of running) {
      const done = await waitForDeployment(api, id, 60_000);
      expect(done.status).toBe('ERROR');
      expect(done.errorMessage).toBe(
        'the build was interrupted: the platform restarted while it ran and could no longer receive its output, so it was stopped',
      );
    }
    for (const id of queued) {
      const done = await waitForDeployment(api, id, 120_000);
      expect(done.status).toBe('READY');
    }
    // The orphaned builds were stopped, not left running.
    for (let i = 0; i < 100 && running.some((id) => buildProcesses(id).length > 0); i++) await sleep(100);
    for (const id of running) expect(buildProcesses(id)).toEqual([]);
    // And their logs say why, after the build's own lines.
    for (const id of running) {
      let last: { stream: string; message: string } | undefined;
      for (let i = 0; i < 100; i++) {
        last = (await http(api, 'GET', `/deployments/${id}/logs`)).json.lines.at(-1);
        if (last?.stream === 'system' && last.message.startsWith('the build was interrupted')) break;
        await sleep(100);
      }
      expect(last).toMatchObject({ stream: 'system', message: expect.stringContaining('the platform restarted while it ran') });
    }
    // The killed builds' scratch folders are gone too (the reconciler sweeps them once their
    // processes are stopped), and so are the later builds' own: nothing is left behind.
    for (let i = 0; i < 100 && readdirSync(scratchDir).length > 0; i++) await sleep(100);
    expect(readdirSync(scratchDir)).toEqual([]);
    // Two restarts, two slow builds and two real ones: on a loaded two-core machine this takes
    // more than the suite's default minute.
  }, 240_000);
});
