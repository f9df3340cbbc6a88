import { describe, expect, it } from 'vitest';
import { chooseForDeletion, type RetentionCandidate } from './retention-policy.ts';

const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 1);
let n = 0;
function d(id: string, status: RetentionCandidate['status'], ref: string | null, target: 'production' | 'preview', ageDays: number): RetentionCandidate {
  const at = new Date(now - ageDays * DAY + n++);
  return { id, status, ref, target, created_at: at, finished_at: at };
}

describe('retention policy', () => {
  const settings = { keepPerBranch: 2, keepRollback: 1, failedAfterDays: 7 };

  it('keeps the newest per branch, production and its rollback window, what aliases serve, and recent failures', () => {
    const all = [
      d('p1', 'READY', 'main', 'production', 10),
      d('p2', 'READY', 'main', 'production', 9),
      d('p3', 'READY', 'main', 'production', 8),
      d('p4', 'READY', 'main', 'production', 7),
      d('f1', 'READY', 'feature', 'preview', 6),
      d('f2', 'READY', 'feature', 'preview', 5),
      d('f3', 'READY', 'feature', 'preview', 4),
      d('e-old', 'ERROR', 'main', 'production', 8),
      d('c-old', 'CANCELED', 'feature', 'preview', 30),
      d('e-new', 'ERROR', 'main', 'production', 1),
    ];
    // Production was rolled back to p1; the feature alias serves f3.
    const deleted = chooseForDeletion(all, settings, new Set(['p1', 'f3']), now);
    // p4, p3: newest of main; p1: served; rollback (1): p4 is the newest unserved production one.
    expect(deleted.sort()).toEqual(['c-old', 'e-old', 'f1', 'p2']);
  });

  it('keeps a rollback window beyond the per-branch count', () => {
    const all = [d('a', 'READY', 'main', 'production', 3), d('b', 'READY', 'main', 'production', 2), d('c', 'READY', 'main', 'production', 1)];
    expect(chooseForDeletion(all, { keepPerBranch: 1, keepRollback: 1, failedAfterDays: 7 }, new Set(['c']), now)).toEqual(['a']);
    expect(chooseForDeletion(all, { keepPerBranch: 1, keepRollback: 0, failedAfterDays: 7 }, new Set(['c']), now).sort()).toEqual(['a', 'b']);
  });

  it('never deletes a served deployment, whatever its age or status', () => {
    const all = [d('old', 'READY', 'x', 'preview', 400), d('n1', 'READY', 'x', 'preview', 2), d('n2', 'READY', 'x', 'preview', 1)];
    expect(chooseForDeletion(all, { keepPerBranch: 1, keepRollback: 0, failedAfterDays: 1 }, new Set(['old']), now)).toEqual(['n1']);
  });

  it('never chooses a build that has not finished', () => {
    const all = [d('q', 'QUEUED', 'main', 'production', 100), d('b', 'BUILDING', 'main', 'production', 100)];
    expect(chooseForDeletion(all, { keepPerBranch: 1, keepRollback: 0, failedAfterDays: 1 }, new Set(), now)).toEqual([]);
  });
});
