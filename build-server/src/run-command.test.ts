import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '@platform/contracts';
import { createSandbox } from '@platform/sandbox';
import { capturingBus } from '@platform/testing/build';
import { removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { processesWith } from '@platform/testing/processes';
import { TEST_SANDBOX } from '@platform/testing/sandbox';
import { BuildEventEmitter } from './events.ts';
import { forEachLine, runCommand } from './run-command.ts';

afterAll(removeTempDirs);

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

async function run(command: string[], timeoutMs = 20_000) {
  const bus = capturingBus();
  const events = new BuildEventEmitter(bus, { deploymentId: 'dep12345678', projectId: 'p1' });
  const sandbox = await createSandbox({ settings: TEST_SANDBOX, root: tempDir('cmd'), name: `cmd${Math.random().toString(36).slice(2, 10)}` });
  const result = await runCommand(command, { cwd: sandbox.workDir, env, timeoutMs, events, sandbox }).finally(() => sandbox.close());
  await events.flush();
  return { result, logs: bus.events as LogEvent[] };
}

describe('runCommand', () => {
  it('turns every stdout and stderr line into a log event, in order per stream, and reports the exit code', async () => {
    const { result, logs } = await run([
      'node',
      '-e',
      'console.log("one\\ntwo"); console.error("err"); process.stdout.write("no newline"); process.exitCode = 3',
    ]);
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false });
    expect(logs.filter((l) => l.stream === 'stdout').map((l) => l.message)).toEqual(['one', 'two', 'no newline']);
    expect(logs.filter((l) => l.stream === 'stderr').map((l) => l.message)).toEqual(['err']);
  });

  it('reports the signal that killed the command', async () => {
    const { result } = await run(['node', '-e', 'process.kill(process.pid, "SIGSEGV")']);
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGSEGV' });
  });

  it('reports a program that cannot start', async () => {
    const { result } = await run(['definitely-not-a-program-xyz']);
    expect(result.spawnError).toContain('ENOENT');
  });

  it('never uses a shell: metacharacters are plain arguments', async () => {
    const dir = tempDir('noshell');
    const marker = join(dir, 'pwned');
    const { logs } = await run(['node', '-e', 'console.log(process.argv[1])', `$(touch ${marker}); touch ${marker}`]);
    expect(logs[0]?.message).toBe(`$(touch ${marker}); touch ${marker}`);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('kills the whole process tree at the timeout, including a child that started its own session', async () => {
    const marker = `tree-${Math.random().toString(36).slice(2)}`;
    const script = `
      const { spawn } = require('node:child_process');
      const sleeper = ['-e', 'setInterval(() => {}, 1000) // ${marker}'];
      spawn(process.execPath, sleeper, { stdio: 'ignore' });
      spawn(process.execPath, sleeper, { stdio: 'ignore', detached: true });
      console.log('started');
      setInterval(() => {}, 1000);`;
    // Long enough for node to start and spawn both children on a busy machine.
    const { result, logs } = await run(['node', '-e', script], 5_000);
    expect(result.timedOut).toBe(true);
    expect(logs.map((l) => l.message)).toContain('started');
    await sleep(200);
    expect(processesWith(marker)).toEqual([]);
  });

  it('ends background processes left behind when the command exits, even a double-forked daemon in /', async () => {
    const marker = `bg-${Math.random().toString(36).slice(2)}`;
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000) // ${marker}'], { stdio: 'inherit' });
      const daemon = spawn('sh', ['-c', 'cd / && setsid sh -c "sleep 30 # ${marker}" &'], { stdio: 'ignore', detached: true });
      child.unref();
      setTimeout(() => process.exit(0), 500);`;
    const { result } = await run(['node', '-e', script]);
    expect(result.exitCode).toBe(0);
    await sleep(200);
    expect(processesWith(marker)).toEqual([]);
  });
});

describe('forEachLine', () => {
  it('keeps at most 64 KiB of a line without a newline and shows what a terminal would after \\r', async () => {
    const lines: string[] = [];
    const huge = 'y'.repeat(300_000);
    await forEachLine(
      Readable.from([Buffer.from('progress 10%\rprogress 100%\r\nnext\n'), Buffer.from(huge), Buffer.from(huge), Buffer.from('\nafter\n')]),
      (l) => lines.push(l),
    );
    expect(lines[0]).toBe('progress 100%');
    expect(lines[1]).toBe('next');
    expect(lines[2]?.length).toBeLessThan(70_000);
    expect(lines[2]?.endsWith('… [line truncated]')).toBe(true);
    expect(lines[3]).toBe('after');
    expect(lines).toHaveLength(4);
  });

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = Buffer.from('héllo wörld\n');
    const lines: string[] = [];
    await forEachLine(Readable.from([bytes.subarray(0, 2), bytes.subarray(2)]), (l) => lines.push(l));
    expect(lines).toEqual(['héllo wörld']);
  });
});
