import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { Command } from '@platform/contracts';
import type { BuildEventEmitter } from './events.ts';

export interface CommandResult {
  /** Null when the process was killed by a signal or could not start. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the program could not be started (not found, not executable). */
  spawnError?: string;
  durationMs: number;
}

/** Process ids of the commands running now, so a shutdown can end their trees. */
const running = new Set<number>();

/** Ends every command still running, with its whole process tree (on SIGTERM from the runner). */
export async function killAllCommands(): Promise<void> {
  await Promise.all([...running].map((pid) => killTree(pid)));
}

/** Longest line kept from a command; the rest of it is dropped (the log shortens it further). */
const MAX_RAW_LINE = 64 * 1024;

/**
 * Runs one of the user's commands: an argument array with `shell: false`, in its own process
 * group so a timeout kills the whole tree, with exactly the environment given (the caller
 * builds it without platform credentials). Every stdout and stderr line becomes a log event.
 */
export async function runCommand(
  command: Command,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; events: BuildEventEmitter },
): Promise<CommandResult> {
  const started = Date.now();
  const [program, ...args] = command;
  const child = spawn(program!, args, {
    cwd: options.cwd,
    env: options.env,
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  if (child.pid !== undefined) running.add(child.pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void killTree(child.pid);
  }, options.timeoutMs);

  const exit = new Promise<Omit<CommandResult, 'durationMs'>>((resolve) => {
    child.once('error', (err) => resolve({ exitCode: null, signal: null, timedOut: false, spawnError: err.message }));
    child.once('exit', (exitCode, signal) => resolve({ exitCode, signal, timedOut }));
  });

  const output = Promise.all([
    forEachLine(child.stdout!, (line) => options.events.log('stdout', line)),
    forEachLine(child.stderr!, (line) => options.events.log('stderr', line)),
  ]);
  const result = await exit;
  clearTimeout(timer);
  // A background process the command left behind may hold the pipes open: give the output a
  // moment to drain, then end the whole tree so nothing outlives its step.
  await Promise.race([output, sleep(2_000)]);
  await killTree(child.pid);
  if (child.pid !== undefined) running.delete(child.pid);
  child.stdout?.destroy();
  child.stderr?.destroy();
  await output;
  return { ...result, timedOut, durationMs: Date.now() - started };
}

/**
 * Splits a stream into lines without ever holding more than MAX_RAW_LINE characters: a command
 * that prints a gigabyte without a newline costs no memory. A carriage return (progress bars)
 * keeps what a terminal would show: the text after the last `\r` of the line.
 */
export function forEachLine(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const decoder = new StringDecoder('utf8');
    let buffer = '';
    let skipping = false; // inside an overlong line whose start was already emitted
    const emit = (raw: string) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const cr = line.lastIndexOf('\r');
      onLine(cr >= 0 ? line.slice(cr + 1) : line);
    };
    const take = (text: string) => {
      buffer += text;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (skipping) skipping = false;
        else emit(line);
      }
      if (buffer.length > MAX_RAW_LINE) {
        if (!skipping) emit(`${buffer.slice(0, MAX_RAW_LINE)}… [line truncated]`);
        skipping = true;
        buffer = '';
      }
    };
    stream.on('data', (chunk: Buffer) => take(decoder.write(chunk)));
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      take(decoder.end());
      if (buffer.length > 0 && !skipping) emit(buffer);
      buffer = '';
      resolve();
    };
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', finish);
  });
}

/**
 * Kills the process group and every descendant found in /proc, so a process that started its
 * own group (setsid) still dies with its step. An orphan re-parented to init escapes the walk:
 * the container's init (ECS `initProcessEnabled`) reaps those when the task ends.
 */
export async function killTree(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const victims = new Set<number>([pid, ...(await descendantsOf(pid))]);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
  for (const victim of victims) {
    try {
      process.kill(victim, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

async function descendantsOf(root: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return []; // not Linux: the process group kill has to do
  }
  const children = new Map<number, number[]>();
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => null);
        if (!stat) return;
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so parse after the last ")".
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const list = children.get(ppid) ?? [];
        list.push(Number(e));
        children.set(ppid, list);
      }),
  );
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}
