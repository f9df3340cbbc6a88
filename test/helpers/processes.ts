import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Pids of live processes of a local build: the build-server and the user's commands, all of
 * which work inside the build's folder. (The build-server erases its own environment, so the
 * folder, not the environment, is what identifies them.)
 */
export function buildProcesses(deploymentId: string): number[] {
  const workDirPrefix = join(tmpdir(), `build-${deploymentId}-`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(workDirPrefix)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile (a zombie has no environment or cwd left), or not ours */
    }
  }
  return pids;
}

/** The build-server process of a local build. */
export function buildServerProcess(deploymentId: string): number | undefined {
  return buildProcesses(deploymentId).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('build-server/src/main.ts');
    } catch {
      return false;
    }
  });
}
