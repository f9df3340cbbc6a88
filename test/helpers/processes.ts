import { readdirSync, readFileSync } from 'node:fs';

/** Pids of live processes whose environment holds the build task of `deploymentId` (build-server runs). */
export function buildProcesses(deploymentId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`"deploymentId":"${deploymentId}"`)) {
        // A zombie has no environment left to match, so a match is a live process.
        pids.push(Number(entry));
      }
    } catch {
      /* gone meanwhile, or not ours */
    }
  }
  return pids;
}
