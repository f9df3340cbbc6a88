import { execFile } from 'node:child_process';
import { formatBytes } from './bubblewrap.ts';
import { program } from './programs.ts';
import type { SandboxedProcess } from './sandbox.ts';

/**
 * The disk cap where no disk image can be mounted (not root, no loop device, no private mount
 * namespace): the work folder's usage, measured while the command runs and once it ends; past
 * `bytes`, the command is ended and says why. A soft cap: what the command writes between two
 * measurements lands before it is stopped.
 */
export function watchDiskUsage(proc: SandboxedProcess, dir: string, bytes: number, intervalMs = 500): SandboxedProcess {
  let reason: string | undefined;
  let measuring = false;
  const check = async () => {
    if (measuring || reason) return;
    measuring = true;
    const used = await diskUsage(dir).catch(() => 0);
    measuring = false;
    if (used > bytes && !reason) {
      reason = `filled its disk (${formatBytes(bytes)})`;
      await proc.kill();
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  const exited = proc.exited.then(async (result) => {
    clearInterval(timer);
    while (measuring) await new Promise((resolve) => setTimeout(resolve, 20));
    await check();
    return result;
  });
  return {
    stdout: proc.stdout,
    stderr: proc.stderr,
    exited,
    kill: () => proc.kill(),
    limitReason: () => proc.limitReason() ?? reason,
  };
}

/** Bytes of disk the folder takes (blocks, on its own file system: `du -sxB1`). */
function diskUsage(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(program('du'), ['-sxB1', '--', dir], { timeout: 30_000 }, (err, stdout) => {
      // du exits 1 when a file went away while it counted: its total still stands.
      const total = Number.parseInt(stdout, 10);
      if (Number.isFinite(total)) resolve(total);
      else reject(err ?? new Error('du printed no total'));
    });
  });
}
