import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Pids of live processes of a local build: the build-server (its environment holds the
 * deployment's build task) and the user's commands (they work inside the build's folder).
 */
export function buildProcesses(deploymentId: string): number[] {
  const workDirPrefix = join(tmpdir(), `build-${deploymentId}-`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const isBuildServer = readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`"deploymentId":"${deploymentId}"`);
      if (isBuildServer || readlinkSync(`/proc/${entry}/cwd`).startsWith(workDirPrefix)) pids.push(Number(entry));
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
      return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`"deploymentId":"${deploymentId}"`);
    } catch {
      return false;
    }
  });
}
