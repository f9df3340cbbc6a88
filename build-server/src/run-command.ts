import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { Command } from '@platform/contracts';
import { killEverySandbox, type Sandbox, type SandboxedProcess } from '@platform/sandbox';
import type { BuildEventEmitter } from './events.ts';

export interface CommandResult {
  /** Null when the process was killed by a signal or could not start. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the program could not be started (not found, not executable, the sandbox failed). */
  spawnError?: string;
  /** Set when the sandbox ended the command for a limit: "ran out of memory (limit 2.0 GiB)". */
  limitReason?: string;
  durationMs: number;
}

/** The commands running now, so a shutdown can end them with everything they started. */
const running = new Set<SandboxedProcess>();

/** Ends every command still running, with every process it started (on SIGTERM from the runner). */
export async function killAllCommands(): Promise<void> {
  // A sandbox still being set up is not in `running` yet.
  killEverySandbox();
  await Promise.all([...running].map((p) => p.kill()));
}

/** Longest line kept from a command; the rest of it is dropped (the log shortens it further). */
const MAX_RAW_LINE = 64 * 1024;

/**
 * Runs one of the user's commands in the build's sandbox: an argument array, never a shell
 * string, with exactly the environment given (the caller builds it without platform
 * credentials). Every stdout and stderr line becomes a log event; the stream is the one the
 * command wrote to, never `system`, whatever the line says. When the command ends, so does
 * everything it started.
 */
export async function runCommand(
  command: Command,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; events: BuildEventEmitter; sandbox: Sandbox },
): Promise<CommandResult> {
  const started = Date.now();
  const child = await options.sandbox.spawn(command, { cwd: options.cwd, env: options.env });
  running.add(child);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void child.kill();
  }, options.timeoutMs);

  const output = Promise.all([
    forEachLine(child.stdout, (line) => options.events.log('stdout', line)),
    forEachLine(child.stderr, (line) => options.events.log('stderr', line)),
  ]);
  const result = await child.exited;
  clearTimeout(timer);
  running.delete(child);
  // Everything in the sandbox is gone now; what it wrote is still in the pipes. (Unsandboxed, a
  // daemon that left the process tree could hold them open: it gets two seconds.)
  const drained = await Promise.race([output.then(() => true), sleep(2_000).then(() => false)]);
  if (!drained) {
    child.stdout.destroy();
    child.stderr.destroy();
    await output;
  }
  const limitReason = child.limitReason();
  return { ...result, timedOut, ...(limitReason ? { limitReason } : {}), durationMs: Date.now() - started };
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
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
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
