import type { RetentionSettings } from '@platform/contracts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';

const DAY_MS = 86_400_000;

export type RetentionCandidate = Pick<DeploymentRow, 'id' | 'status' | 'target' | 'ref' | 'created_at' | 'finished_at'>;

/**
 * Which of a project's finished deployments retention deletes; the rest stay. Kept:
 * - every deployment a hostname alias serves now (`served`: production, branches, domains);
 * - per branch, the newest `keepPerBranch` READY deployments;
 * - the production deployment and the `keepRollback` newest other READY production
 *   deployments (the instant-rollback window);
 * - ERROR and CANCELED deployments that ended less than `failedAfterDays` ago.
 * `deployments` may come in any order; only finished ones are ever chosen.
 */
export function chooseForDeletion(
  deployments: readonly RetentionCandidate[],
  settings: Pick<RetentionSettings, 'keepPerBranch' | 'keepRollback' | 'failedAfterDays'>,
  served: ReadonlySet<string>,
  now: number,
): string[] {
  const newestFirst = [...deployments].sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1));
  const keep = new Set(served);
  const perBranch = new Map<string, number>();
  let rollback = 0;
  for (const d of newestFirst) {
    if (d.status !== 'READY') continue;
    const branch = d.ref ?? '';
    const seen = perBranch.get(branch) ?? 0;
    if (seen < settings.keepPerBranch) keep.add(d.id);
    perBranch.set(branch, seen + 1);
    if (d.target === 'production' && !served.has(d.id) && rollback < settings.keepRollback) {
      keep.add(d.id);
      rollback++;
    }
  }
  const failedBefore = now - settings.failedAfterDays * DAY_MS;
  return newestFirst
    .filter((d) => {
      if (keep.has(d.id)) return false;
      if (d.status === 'READY') return true;
      if (d.status !== 'ERROR' && d.status !== 'CANCELED') return false;
      return (d.finished_at ?? d.created_at).getTime() < failedBefore;
    })
    .map((d) => d.id);
}
