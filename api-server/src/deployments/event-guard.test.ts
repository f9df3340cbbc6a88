import { describe, expect, it } from 'vitest';
import type { BuildEvent, LogEvent } from '@platform/contracts';
import { deploymentEventKey, signBuildEvent } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { parseBuildEvents, ReplayGuard, type RejectedEventReason } from './event-guard.ts';

const SECRET = 'platform-signing-secret-0123456789abcdef';
const log = createLogger({ level: 'silent' });
const A = { deploymentId: 'dplaaaaaaaa', projectId: 'prj1' };
const B = { deploymentId: 'dplbbbbbbbb', projectId: 'prj2' };
const line = (ids: typeof A, seq: number): LogEvent => ({ type: 'log', ...ids, seq, ts: 1, stream: 'stdout', message: `line ${seq}` });
const wire = (events: BuildEvent[]) => events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) }));

describe('parseBuildEvents with a signing secret', () => {
  it('keeps only events signed for their own deployment and counts each drop by reason', () => {
    const reasons: RejectedEventReason[] = [];
    const keyA = deploymentEventKey(SECRET, A);
    const good = signBuildEvent(line(A, 1), keyA);
    const messages = [
      ...wire([good]),
      ...wire([line(A, 2)]), // unsigned
      ...wire([signBuildEvent(line(B, 1), keyA)]), // for B, signed with A's key
      ...wire([{ ...signBuildEvent(line(A, 3), keyA), message: 'tampered' }]),
      { key: 'x', value: '{not json' },
    ];
    const events = parseBuildEvents(messages, log, { signingSecret: SECRET, rejected: (r) => reasons.push(r) });
    expect(events).toEqual([good]);
    expect(reasons).toEqual(['unsigned', 'bad_signature', 'bad_signature', 'malformed']);
  });

  it('takes unsigned events when no secret is configured (signing not turned on yet)', () => {
    expect(parseBuildEvents(wire([line(A, 1)]), log)).toEqual([line(A, 1)]);
  });
});

describe('ReplayGuard', () => {
  it('drops events already applied, and duplicates within a batch', () => {
    const reasons: RejectedEventReason[] = [];
    const guard = new ReplayGuard((r) => reasons.push(r));
    const first = [line(A, 1), line(A, 2), line(B, 1)];
    expect(guard.fresh(first, log)).toEqual(first);
    guard.applied(first);
    expect(guard.fresh([line(A, 2), line(A, 3), line(A, 3), line(B, 1)], log)).toEqual([line(A, 3)]);
    expect(reasons).toEqual(['replayed', 'replayed', 'replayed']);
  });

  it('does not mistake a batch redelivered after a failed apply for a replay', () => {
    const guard = new ReplayGuard();
    const batch = [line(A, 1), line(A, 2)];
    expect(guard.fresh(batch, log)).toEqual(batch);
    // Not marked applied (the handler threw): the redelivery is taken.
    expect(guard.fresh(batch, log)).toEqual(batch);
  });

  it('takes an event below a gap that arrives late (a notice numbered after it went first)', () => {
    const guard = new ReplayGuard();
    guard.applied([line(A, 1), line(A, 5)]);
    expect(guard.fresh([line(A, 3), line(A, 5), line(A, 1)], log)).toEqual([line(A, 3)]);
  });

  it('forgets the least recently used deployments beyond its bound', () => {
    const guard = new ReplayGuard(undefined, 2);
    guard.applied([line(A, 1)]);
    guard.applied([line(B, 1)]);
    guard.applied([line({ deploymentId: 'dplcccccccc', projectId: 'p' }, 1)]);
    expect(guard.fresh([line(A, 1), line(B, 1)], log)).toEqual([line(A, 1)]);
  });
});
