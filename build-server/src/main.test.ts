import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_TASK_ENV, BUILD_TASK_FILE_ENV, buildEventSchema, encodeBuildTaskEnv, type BuildEvent, type BuildTask, type LogEvent } from '@platform/contracts';
import { readPipeMessages } from '@platform/event-bus';
import { removeTempDirs, repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { processesWith } from '@platform/testing/processes';
import { SANDBOX_AVAILABLE, TEST_SANDBOX } from '@platform/testing/sandbox';

afterAll(removeTempDirs);

const require = createRequire(import.meta.url);

const MAIN = join(import.meta.dirname, 'main.ts');

/** Runs the real entry point as its own process, the way every runner does, and collects its events from fd 3. */
async function runMain(
  env: Record<string, string>,
  whileRunning?: (child: import('node:child_process').ChildProcess) => Promise<void>,
): Promise<{ code: number | null; events: BuildEvent[]; stderr: string }> {
  const child = spawn(process.execPath, ['--import', require.resolve('tsx'), MAIN], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BUILD_WORK_DIR: tempDir('work'), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout!.resume();
  const events: BuildEvent[] = [];
  const reading = (async () => {
    for await (const frame of readPipeMessages(child.stdio[3] as Readable)) events.push(buildEventSchema.parse(JSON.parse(frame.value)));
  })();
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  await whileRunning?.(child);
  const code = await closed;
  await reading;
  return { code, events, stderr };
}

function task(overrides: Partial<BuildTask>): BuildTask {
  return {
    deploymentId: `dep${Date.now().toString(36)}`,
    projectId: 'proj-main',
    gitUrl: repoFromFixture('hostile-env'),
    localGitRoots: ['/'],
    sandbox: TEST_SANDBOX,
    storage: { driver: 'local', dir: tempDir('store-platform-canary') },
    transport: { driver: 'pipe' },
    ...overrides,
  };
}

describe('build-server entry point', () => {
  it("a hostile install script finds no platform credential: not in its env, not in any ancestor's /proc/<pid>/environ", async () => {
    const secret = 'sk_live_user_secret_424242';
    const t = task({ buildEnv: { SECRET_API_KEY: secret }, gitToken: 'ghp_platform_token_canary_1' });
    const { code, events, stderr } = await runMain({
      ...encodeBuildTaskEnv(t),
      // A cold tsx cache, as in a fresh container: tsx then starts an esbuild service process,
      // which inherits the original environment unless the build-server ends it.
      TMPDIR: tempDir('tsx-cold'),
      // Credentials the platform put in the build container's environment.
      AWS_SECRET_ACCESS_KEY: 'aws-credential-canary-9876',
      KAFKA_SASL_PASSWORD: 'kafka-credential-canary-5432',
    });
    expect(stderr).not.toContain('warning: could not erase');
    expect(
      code,
      events
        .map((e) => (e.type === 'log' ? e.message : `${e.status} ${e.detail ?? ''}`))
        .slice(-12)
        .join('\n'),
    ).toBe(0);
    const logs = events.filter((e): e is LogEvent => e.type === 'log');
    const text = logs.map((l) => l.message).join('\n');
    if (SANDBOX_AVAILABLE) {
      // In its own pid namespace the hunt sees no process of the platform's at all.
      expect(text).toMatch(/HUNT DONE: \d+ ancestors/);
      expect(text).not.toMatch(/ANCESTOR \d+ .*main\.ts/);
    } else {
      // The hunt ran and read the build-server's environment block.
      expect(text).toMatch(/HUNT DONE: [1-9]\d* ancestors/);
      expect(text).toMatch(/ANCESTOR \d+ 0 variables/);
    }
    // Values unique to this build: the hunt also prints other processes on the machine, which are not ours to judge.
    for (const canary of ['aws-credential-canary', 'kafka-credential-canary', 'store-platform-canary', 'ghp_platform_token_canary', secret]) {
      expect(logs.filter((l) => l.message.includes(canary)).map((l) => l.message)).toEqual([]);
    }
    const ownEnv = logs.filter((l) => l.message.startsWith('ENV ')).map((l) => l.message);
    expect(ownEnv.length).toBeGreaterThan(5);
    expect(ownEnv.filter((line) => /^ENV (BUILD_TASK|GIT_CONFIG|AWS_|KAFKA_)/.test(line))).toEqual([]);
    expect(text).toContain('ENV SECRET_API_KEY=***');
    // The event pipe is not inherited: no process of the build can forge events.
    expect(text).toMatch(SANDBOX_AVAILABLE ? /EVENT PIPE not found/ : /EVENT PIPE (pipe|socket):\[\d+\] held by: none/);
    expect(events.some((e) => e.deploymentId === 'forged')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'READY' });
  });

  it('reads the task from BUILD_TASK_FILE and deletes the file before any command runs', async () => {
    const file = join(tempDir('task'), 'task.json');
    writeFileSync(file, encodeBuildTaskEnv(task({}))[BUILD_TASK_ENV]!);
    const { code, events } = await runMain({ [BUILD_TASK_FILE_ENV]: file });
    expect(code).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'READY' });
  });

  it('on SIGTERM from the runner, ends the running command with its whole tree and exits 143', async () => {
    const marker = `sigterm-${Math.random().toString(36).slice(2)}`;
    const script = `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000) // ${marker}'], { stdio: 'ignore', detached: true });
      setInterval(() => {}, 1000);`;
    const t = task({ gitUrl: repoFromFixture(null, { 'index.html': 'x' }), buildCommand: ['node', '-e', script] });
    const { code } = await runMain(encodeBuildTaskEnv(t), async (child) => {
      while (processesWith(marker).length === 0) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
    });
    expect(code).toBe(143);
    await new Promise((r) => setTimeout(r, 200));
    const left = processesWith(marker);
    expect(left, left.map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 80)}`).join('\n')).toEqual([]);
  });

  it('refuses to start without a task, naming what is missing', async () => {
    const { code, stderr } = await runMain({});
    expect(code).toBe(2);
    expect(stderr).toContain('BUILD_TASK is not set');
  });
});
