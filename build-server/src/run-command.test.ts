import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '@platform/contracts';
import { capturingBus, removeTempDirs, tempDir } from '../test/helpers.ts';
import { BuildEventEmitter } from './events.ts';
import { forEachLine, runCommand } from './run-command.ts';

afterAll(removeTempDirs);

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

async function run(command: string[], timeoutMs = 20_000) {
  const bus = capturingBus();
  const events = new BuildEventEmitter(bus, { deploymentId: 'dep12345678', projectId: 'p1' });
  const result = await runCommand(command, { cwd: tempDir('cmd'), env, timeoutMs, events });
  await events.flush();
  return { result, logs: bus.events as LogEvent[] };
}

/** Running, as opposed to gone or a zombie waiting for init to reap it. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

describe('runCommand', () => {
  it('turns every stdout and stderr line into a log event, in order per stream, and reports the exit code', async () => {
    const { result, logs } = await run(['node', '-e', 'console.log("one\\ntwo"); console.error("err"); process.stdout.write("no newline"); process.exitCode = 3']);
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
    const dir = tempDir('tree');
    const pidFile = join(dir, 'pids');
    const script = `
      const { spawn } = require('node:child_process');
      const fs = require('node:fs');
      const sleeper = ['-e', 'setInterval(() => {}, 1000)'];
      const inGroup = spawn(process.execPath, sleeper, { stdio: 'ignore' });
      const ownSession = spawn(process.execPath, sleeper, { stdio: 'ignore', detached: true });
      fs.writeFileSync(${JSON.stringify(pidFile)}, [inGroup.pid, ownSession.pid].join(','));
      console.log('started');
      setInterval(() => {}, 1000);`;
    // Long enough for node to start and spawn both children on a busy machine.
    const { result, logs } = await run(['node', '-e', script], 5_000);
    expect(result.timedOut).toBe(true);
    expect(logs.map((l) => l.message)).toContain('started');
    const pids = readFileSync(pidFile, 'utf8').split(',').map(Number);
    await sleep(200);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('ends background processes left behind when the command exits', async () => {
    const dir = tempDir('bg');
    const pidFile = join(dir, 'pid');
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
      child.unref();
      process.exit(0);`;
    const { result } = await run(['node', '-e', script]);
    expect(result.exitCode).toBe(0);
    await sleep(200);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });
});

describe('forEachLine', () => {
  it('keeps at most 64 KiB of a line without a newline and shows what a terminal would after \\r', async () => {
    const lines: string[] = [];
    const huge = 'y'.repeat(300_000);
    await forEachLine(Readable.from([Buffer.from('progress 10%\rprogress 100%\r\nnext\n'), Buffer.from(huge), Buffer.from(huge), Buffer.from('\nafter\n')]), (l) => lines.push(l));
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
