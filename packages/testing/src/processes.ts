/** Processes of builds, found from outside through /proc (inside a sandbox a process has another pid). */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Every pid under /proc for which `keep` holds; a process gone meanwhile (or not ours to read) is left out. */
function pidsWhere(keep: (pid: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return keep(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Pids of live processes of a local build: the build-server and the user's commands, all of
 * which work inside the build's folder. (The build-server erases its own environment, so the
 * folder, not the environment, is what identifies them.)
 */
export function buildProcesses(deploymentId: string): number[] {
  // The folder is `build-<id>-<random>` in the platform's scratch root (wherever that is).
  const workDir = new RegExp(`/build-${deploymentId}-[^/]+(/|$)`);
  // A zombie has no cwd left: it drops out with the failed readlink.
  return pidsWhere((pid) => workDir.test(readlinkSync(`/proc/${pid}/cwd`)));
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

/**
 * Host pids of running processes (not zombies) whose command line holds `marker`. Found from
 * outside: inside the sandbox a process has another pid and cannot write outside its folder.
 */
export function processesWith(marker: string): number[] {
  return pidsWhere((pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  });
}
