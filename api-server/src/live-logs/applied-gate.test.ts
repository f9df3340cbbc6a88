import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeploymentStatus } from '@platform/contracts';
import { createLogger } from '@platform/logger';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import { AppliedGate } from './applied-gate.ts';
import { appliedMarks } from './live-feed.ts';

/** The two fields of a row the gate reads, as the writer leaves them. */
function rows() {
  const state = new Map<string, { status: DeploymentStatus; last_event_seq: number }>();
  let reads = 0;
  return {
    set: (id: string, status: DeploymentStatus, seq: number) => void state.set(id, { status, last_event_seq: seq }),
    get reads() {
      return reads;
    },
    getRow: async (id: string) => {
      reads++;
      const row = state.get(id);
      return row ? ({ id, ...row } as DeploymentRow) : null;
    },
  };
}

const logger = createLogger({ level: 'silent' });

describe('AppliedGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds a terminal status until the applied event for its seq arrives, then releases it at once', async () => {
    const db = rows();
    db.set('d', 'BUILDING', 1);
    const gate = new AppliedGate({ getRow: db.getRow, logger }, { timeoutMs: 60_000, recheckMs: 30_000 });
    let released = false;
    const held = gate.waitFor('d', 9).then(() => (released = true));
    await vi.advanceTimersByTimeAsync(10);
    gate.noteApplied('d', 8); // an earlier batch: not enough
    gate.noteApplied('other', 9); // another deployment
    await vi.advanceTimersByTimeAsync(10);
    expect(released).toBe(false);
    gate.noteApplied('d', 9);
    await held;
    expect(released).toBe(true);
    // One read when the hold started; the release came from the event, not from the row.
    expect(db.reads).toBe(1);
  });

  it('releases at once what was announced before, or what the row already shows', async () => {
    const db = rows();
    const gate = new AppliedGate({ getRow: db.getRow, logger });
    gate.noteApplied('a', 5);
    await gate.waitFor('a', 5);
    expect(db.reads).toBe(0);
    db.set('b', 'READY', 12);
    await gate.waitFor('b', 12);
    db.set('c', 'ERROR', 3); // ended by the platform: no event will carry seq 7
    await gate.waitFor('c', 7);
    await gate.waitFor('gone', 1); // a deleted deployment holds nothing
  });

  it('finds an applied status on the row at its recheck when the event was lost', async () => {
    const db = rows();
    db.set('d', 'BUILDING', 1);
    const gate = new AppliedGate({ getRow: db.getRow, logger }, { timeoutMs: 60_000, recheckMs: 1_000 });
    let released = false;
    const held = gate.waitFor('d', 4).then(() => (released = true));
    await vi.advanceTimersByTimeAsync(1_500);
    expect(released).toBe(false);
    db.set('d', 'READY', 4);
    await vi.advanceTimersByTimeAsync(1_000);
    await held;
    expect(released).toBe(true);
  });

  it('lets the status go after its bound while the writer is down, and on releaseAll', async () => {
    const db = rows();
    db.set('d', 'BUILDING', 1);
    const gate = new AppliedGate({ getRow: db.getRow, logger }, { timeoutMs: 3_000, recheckMs: 1_000 });
    let released = false;
    const held = gate.waitFor('d', 4).then(() => (released = true));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(released).toBe(false);
    await vi.advanceTimersByTimeAsync(1_100);
    await held;
    expect(released).toBe(true);
    const closing = gate.waitFor('d', 9);
    await vi.advanceTimersByTimeAsync(0);
    gate.releaseAll();
    await closing;
  });
});

describe('appliedMarks', () => {
  const base = { projectId: 'p', ts: 0 };
  it('announces, per deployment whose batch carried a status, the highest seq of the batch', () => {
    expect(
      appliedMarks([
        { ...base, deploymentId: 'a', type: 'status', seq: 1, status: 'BUILDING' },
        { ...base, deploymentId: 'a', type: 'log', seq: 3, stream: 'stdout', message: 'x' },
        { ...base, deploymentId: 'a', type: 'log', seq: 2, stream: 'stdout', message: 'x' },
        { ...base, deploymentId: 'b', type: 'log', seq: 7, stream: 'stdout', message: 'only lines' },
        { ...base, deploymentId: 'c', type: 'status', seq: 9, status: 'READY' },
      ]),
    ).toEqual([
      { deploymentId: 'a', upToSeq: 3 },
      { deploymentId: 'c', upToSeq: 9 },
    ]);
    expect(appliedMarks([])).toEqual([]);
  });
});
