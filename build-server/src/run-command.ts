import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from '@platform/contracts';
import type { BuildEventEmitter } from './events.ts';

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/**
 * Runs one of the user's commands: an argument array with `shell: false`, in its own process
 * group so a timeout kills the whole tree, with exactly the environment given (the caller
 * builds it without platform credentials). Every stdout and stderr line becomes a log event.
 */
export async function runCommand(
  command: Command,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; events: BuildEventEmitter },
): Promise<CommandResult> {
  const [program, ...args] = command;
  const child = spawn(program!, args, {
    cwd: options.cwd,
    env: options.env,
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const lines = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') =>
    new Promise<void>((resolve) => {
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => options.events.log(name, line));
      rl.on('close', resolve);
    });

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, 'SIGKILL');
  }, options.timeoutMs);

  const exit = new Promise<CommandResult>((resolve) => {
    child.once('error', (err) => {
      options.events.log('stderr', `could not start ${program}: ${err.message}`);
      resolve({ exitCode: null, signal: null, timedOut: false });
    });
    child.once('exit', (exitCode, signal) => resolve({ exitCode, signal, timedOut }));
  });

  const output = Promise.all([lines(child.stdout!, 'stdout'), lines(child.stderr!, 'stderr')]);
  const result = await exit;
  clearTimeout(timer);
  // A background process the command left behind may hold the pipes open: give the output a
  // moment to drain, then end the whole group so nothing outlives its step.
  await Promise.race([output, sleep(2_000)]);
  killGroup(child.pid, 'SIGKILL');
  await output;
  return { ...result, timedOut };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}
