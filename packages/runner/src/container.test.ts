import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BUILD_EVENTS_TOPIC, type BuildTaskRequest } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { createContainerRunner } from './container.ts';

// The container runner's command line, with a FAKE engine CLI in place of podman: a script that
// records the argv and environment it was given, prints one build event as the image's entry
// point would, and exits with a chosen code. The real podman run is in
// test/container-runner.integration.test.ts.

function fakeEngine(exitCode: number): { binary: string; record: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-podman-'));
  const record = join(dir, 'record.json');
  const binary = join(dir, 'podman');
  writeFileSync(
    binary,
    `#!${process.execPath}
const fs = require('node:fs');
const task = JSON.parse(process.env.BUILD_TASK || '{}');
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env }));
const event = { type: 'log', deploymentId: task.deploymentId, projectId: task.projectId, seq: 1, ts: 1, stream: 'system', message: 'hello from the container' };
process.stdout.write(JSON.stringify({ topic: 'build-events', key: task.deploymentId, value: JSON.stringify(event) }) + '\\n');
process.exitCode = ${exitCode};
`,
  );
  chmodSync(binary, 0o755);
  return { binary, record };
}

const hostileTask = (dir: string): BuildTaskRequest => ({
  deploymentId: 'dplhostile0000000001',
  projectId: 'prj_x',
  gitUrl: 'https://example.com/a.git; touch /tmp/pwned-container',
  gitRef: '$(touch /tmp/pwned-container)',
  buildEnv: { SECRET_TOKEN: 'do-not-put-me-on-a-command-line' },
  storage: { driver: 'local', dir },
  transport: { driver: 'pipe' },
});

describe('container runner (FAKE engine CLI)', () => {
  it("runs the image with limits, only a supervisor's capabilities, a user namespace, a read-only root, and the task only in the environment", async () => {
    const { binary, record } = fakeEngine(0);
    const bus = createInProcessEventBus();
    const received: string[] = [];
    await bus.subscribe(BUILD_EVENTS_TOPIC, { groupId: 't' }, async (m) => void received.push(...m.map((x) => JSON.parse(x.value).message)));
    const runner = createContainerRunner({
      engine: 'podman',
      engineBinary: binary,
      image: 'localhost/build:test',
      limits: { cpus: 1, memory: '512m', pids: 256, scratchSize: '1g' },
      network: 'none',
      eventBus: bus,
    });
    const ended = new Promise<string>((resolve) => runner.onTaskEnded!(resolve));
    const storeDir = mkdtempSync(join(tmpdir(), 'store-'));
    const task = hostileTask(storeDir);
    const { taskId } = await runner.start(task);
    expect(taskId).toBe('platform-build-dplhostile0000000001');
    expect(await ended).toBe(taskId);

    const { argv, env } = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; env: Record<string, string> };
    const pairs = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
    expect(argv[0]).toBe('run');
    expect(argv).toContain('--rm');
    expect(argv).toContain('--read-only');
    expect(pairs('--cap-drop')).toEqual(['ALL']);
    // What the supervisor needs to run the user's commands as uid 1001 and read their output; nothing more.
    expect(pairs('--cap-add').sort()).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL', 'SETGID', 'SETUID']);
    expect(pairs('--security-opt')).toEqual(['no-new-privileges', 'unmask=/proc/*']);
    expect(pairs('--userns')).toEqual(['auto']);
    expect(pairs('--cpus')).toEqual(['1']);
    expect(pairs('--memory')).toEqual(['512m']);
    expect(pairs('--memory-swap')).toEqual(['512m']);
    expect(pairs('--pids-limit')).toEqual(['256']);
    expect(pairs('--network')).toEqual(['none']);
    // Root of the container's own user namespace: nobody on the host.
    expect(pairs('--user')).toEqual(['0:0']);
    expect(pairs('--tmpfs')[0]).toMatch(/^\/scratch:rw,exec,nosuid,nodev,mode=1777,size=1g$/);
    expect(pairs('-v')).toEqual([
      `${storeDir}/deployments/${task.deploymentId}:${storeDir}/deployments/${task.deploymentId}:rw,U`,
      `${storeDir}/content/prj_x:${storeDir}/content/prj_x:rw,U`,
      `${storeDir}/build-cache/prj_x:${storeDir}/build-cache/prj_x:rw,U`,
    ]);
    expect(argv.at(-1)).toBe('localhost/build:test');
    // The task (and the user's secrets in it) is in the engine's environment, never in argv.
    expect(pairs('-e')).toContain('BUILD_TASK');
    expect(argv.join(' ')).not.toContain('do-not-put-me-on-a-command-line');
    expect(JSON.parse(env.BUILD_TASK!).buildEnv).toEqual({ SECRET_TOKEN: 'do-not-put-me-on-a-command-line' });
    // Inside, the build-server sandboxes the user's commands as a uid of their own.
    expect(JSON.parse(env.BUILD_TASK!).sandbox).toMatchObject({ isolation: 'auto', uid: 1001 });
    // The hostile git URL and ref were data, not commands.
    expect(existsSync('/tmp/pwned-container')).toBe(false);
    // Events on the container's stdout reach the bus.
    for (let i = 0; i < 50 && received.length === 0; i++) await sleep(10);
    expect(received).toEqual(['hello from the container']);
    expect(await runner.describe(taskId)).toMatchObject({ state: 'stopped', exitCode: 0 });
    await bus.close();
  });

  it('reports a container killed with SIGKILL (exit code 137) with a reason', async () => {
    const { binary } = fakeEngine(137);
    const bus = createInProcessEventBus();
    const runner = createContainerRunner({
      engine: 'podman',
      engineBinary: binary,
      image: 'i',
      limits: { cpus: 1, memory: '1g', pids: 64, scratchSize: '1g' },
      eventBus: bus,
    });
    const ended = new Promise<string>((resolve) => runner.onTaskEnded!(resolve));
    const { taskId } = await runner.start(hostileTask(mkdtempSync(join(tmpdir(), 'store-'))));
    await ended;
    expect(await runner.describe(taskId)).toMatchObject({
      state: 'stopped',
      exitCode: 137,
      reason: 'the build container was killed (exit code 137: SIGKILL, often the memory limit)',
    });
    await bus.close();
  });

  it('refuses to mount a path that would change the mount specification', async () => {
    const { binary } = fakeEngine(0);
    const runner = createContainerRunner({
      engine: 'podman',
      engineBinary: binary,
      image: 'i',
      limits: { cpus: 1, memory: '1g', pids: 64, scratchSize: '1g' },
      eventBus: createInProcessEventBus(),
    });
    const task = hostileTask(mkdtempSync(join(tmpdir(), 'store:x,')));
    await expect(runner.start(task)).rejects.toThrow('the path contains');
  });

  it('never mounts a host path a tenant names: a local repository outside the allowed roots is not copied or mounted', async () => {
    const { binary, record } = fakeEngine(0);
    const runner = createContainerRunner({
      engine: 'podman',
      engineBinary: binary,
      image: 'i',
      limits: { cpus: 1, memory: '1g', pids: 64, scratchSize: '1g' },
      eventBus: createInProcessEventBus(),
    });
    const ended = new Promise<string>((resolve) => runner.onTaskEnded!(resolve));
    const allowed = mkdtempSync(join(tmpdir(), 'allowed-'));
    await runner.start({ ...hostileTask(mkdtempSync(join(tmpdir(), 'store-'))), gitUrl: '/etc', localGitRoots: [allowed] });
    await ended;
    const { argv, env } = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; env: Record<string, string> };
    expect(argv.join(' ')).not.toContain('/etc');
    // The build-server refuses it in turn: no local roots reach the container.
    expect(JSON.parse(env.BUILD_TASK!)).toMatchObject({ gitUrl: '/etc', localGitRoots: [] });
  });

  it("removes the local repository copies that builds of ended deployments left in the system temp folder, and nobody else's", async () => {
    const runner = createContainerRunner({
      engine: 'podman',
      engineBinary: fakeEngine(0).binary,
      image: 'localhost/build:test',
      limits: { cpus: 1, memory: '512m', pids: 256, scratchSize: '1g' },
      eventBus: createInProcessEventBus(),
    });
    const suffix = Math.random().toString(36).slice(2, 10);
    const ended = join(tmpdir(), `build-source-dplended${suffix}-abc`);
    const other = join(tmpdir(), `build-source-dplother${suffix}-abc`);
    for (const dir of [ended, other]) mkdirSync(join(dir, 'repo.git'), { recursive: true });
    const removed = await runner.sweepScratch!(async (ids) => ids.filter((id) => id === `dplended${suffix}`));
    expect(removed).toEqual([`dplended${suffix}`]);
    expect(existsSync(ended)).toBe(false);
    expect(existsSync(other)).toBe(true);
    rmSync(other, { recursive: true, force: true });
    await runner.close();
  });
});
