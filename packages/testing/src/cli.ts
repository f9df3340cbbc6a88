/** Runs the `plat` CLI as a user would: a child process, its own environment, output captured. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { HOST_ENV } from './infra-env.ts';
import { ROOT } from './fixtures.ts';

export const CLI_BIN = join(ROOT, 'packages', 'cli', 'bin', 'plat.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `plat ...args` in `cwd` with only the variables given (plus PATH and HOME): the test's own
 * credentials never leak in. Async, so a platform running in the test's process keeps serving.
 */
export function runCli(args: readonly string[], options: { cwd: string; env?: Record<string, string>; stdin?: string; timeoutMs?: number }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: options.cwd,
      env: { PATH: HOST_ENV.PATH ?? '', HOME: options.env?.HOME ?? options.cwd, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
