import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '@platform/contracts';
import { afterPage, backoffMs, caughtUp, HighWater, holeEnd, newCursor, skipHole, take, type Taken } from './replay.ts';

const base = { deploymentId: 'd', projectId: 'p', ts: 0 };
const log = (seq: number): BuildEvent => ({ ...base, type: 'log', seq, stream: 'stdout', message: `line ${seq}` });
const status = (seq: number, s: 'BUILDING' | 'READY' | 'ERROR'): BuildEvent => ({ ...base, type: 'status', seq, status: s });
const seqs = (taken: Taken): number[] | string => (taken.kind === 'send' ? taken.events.map((e) => e.seq) : taken.kind);

describe('take: one event from either source', () => {
  it('sends the next seq at once and drops a repeat of anything already sent', () => {
    const c = newCursor(0, 0);
    expect(seqs(take(c, status(1, 'BUILDING'), 10))).toEqual([1]);
    expect(seqs(take(c, log(2), 10))).toEqual([2]);
    expect(seqs(take(c, log(2), 10))).toEqual([]);
    expect(seqs(take(c, log(1), 10))).toEqual([]);
    expect(c.lastSeq).toBe(2);
  });

  it('keeps what is ahead and sends it, in order, once the hole before it is filled', () => {
    const c = newCursor(0, 0);
    expect(take(c, log(3), 10)).toEqual({ kind: 'hole' });
    expect(take(c, log(5), 10)).toEqual({ kind: 'hole' });
    expect(seqs(take(c, log(1), 10))).toEqual([1]);
    expect(seqs(take(c, log(2), 10))).toEqual([2, 3]);
    expect(c.pending.size).toBe(1);
    expect(seqs(take(c, log(4), 10))).toEqual([4, 5]);
    expect(c.pending.size).toBe(0);
  });

  it('resumes after the seq a client already has', () => {
    const c = newCursor(1_000, 0);
    expect(seqs(take(c, log(1_000), 10))).toEqual([]);
    expect(seqs(take(c, log(1_001), 10))).toEqual([1_001]);
  });

  it('ends at a terminal status: nothing after it, nothing pending', () => {
    const c = newCursor(0, 0);
    take(c, log(1), 10);
    take(c, log(4), 10);
    expect(seqs(take(c, status(2, 'ERROR'), 10))).toEqual([2]);
    expect(c.ended).toBe(true);
    expect(c.pending.size).toBe(0);
    expect(seqs(take(c, log(3), 10))).toEqual([]);
  });

  it('stops at a terminal status found among the pending events', () => {
    const c = newCursor(0, 0);
    take(c, status(2, 'READY'), 10);
    take(c, log(3), 10);
    expect(seqs(take(c, log(1), 10))).toEqual([1, 2]);
    expect(c.ended).toBe(true);
  });

  it('reports an overflow once more events wait than the bound allows', () => {
    const c = newCursor(0, 0);
    expect(take(c, log(2), 2)).toEqual({ kind: 'hole' });
    expect(take(c, log(3), 2)).toEqual({ kind: 'hole' });
    expect(take(c, log(4), 2)).toEqual({ kind: 'overflow' });
  });
});

describe('the switch from history to live', () => {
  it('is complete once nothing is pending and the live head at subscribe time is reached', () => {
    const c = newCursor(0, 3);
    expect(caughtUp(c)).toBe(false);
    for (const seq of [1, 2, 3]) take(c, log(seq), 10);
    expect(caughtUp(c)).toBe(true);
    take(c, log(5), 10);
    expect(caughtUp(c)).toBe(false);
  });

  it('decides what a replay loop does after each page', () => {
    const c = newCursor(0, 4);
    expect(afterPage(c, 0, 10, 10)).toBe('more');
    take(c, log(1), 10);
    take(c, log(2), 10);
    expect(afterPage(c, 0, 2, 10)).toBe('progress');
    expect(afterPage(c, 2, 0, 10)).toBe('stalled');
    take(c, log(3), 10);
    take(c, log(4), 10);
    expect(afterPage(c, 2, 2, 10)).toBe('done');
    const ended = newCursor(0, 9);
    take(ended, status(1, 'READY'), 10);
    expect(afterPage(ended, 0, 1, 10)).toBe('done');
  });
});

describe('holes', () => {
  it('ends at the first pending event, or just past the live head when nothing is pending', () => {
    const c = newCursor(0, 0);
    expect(holeEnd(c)).toBeUndefined();
    take(c, log(7), 10);
    take(c, log(4), 10);
    expect(holeEnd(c)).toBe(4);
    expect(holeEnd(newCursor(2, 5))).toBe(6);
    expect(holeEnd(newCursor(5, 5))).toBeUndefined();
  });

  it('skips a lost hole and sends what it unblocks', () => {
    const c = newCursor(2, 0);
    take(c, log(4), 10);
    take(c, log(5), 10);
    expect(skipHole(c, 4, 10).map((e) => e.seq)).toEqual([4, 5]);
    expect(c.lastSeq).toBe(5);
    expect(skipHole(c, 3, 10)).toEqual([]); // already past it: nothing moves back
    expect(c.lastSeq).toBe(5);
    const head = newCursor(2, 5);
    expect(skipHole(head, 6, 10)).toEqual([]);
    expect(head.lastSeq).toBe(5);
  });

  it('backs off exponentially up to its bound', () => {
    expect([0, 1, 2, 3, 30].map((n) => backoffMs(n, 25, 1_000))).toEqual([25, 50, 100, 200, 1_000]);
  });
});

describe('HighWater', () => {
  it('keeps the highest seq per deployment and forgets the oldest deployment past its cap', () => {
    const hw = new HighWater(2);
    expect(hw.note('a', 3)).toBe(true);
    expect(hw.note('a', 2)).toBe(false);
    expect(hw.get('a')).toBe(3);
    hw.note('b', 1);
    hw.note('c', 1);
    expect(hw.get('a')).toBe(0);
    expect(hw.get('c')).toBe(1);
  });
});
