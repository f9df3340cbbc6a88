import { isTerminalStatus, type BuildEvent } from '@platform/contracts';

/**
 * The ordering logic of one subscriber's stream, with no I/O and no timers: what to send
 * next, what to keep, when the switch from history to live is complete, and which hole may be
 * skipped. The socket server (stream.ts) does the reading and the sending around it.
 *
 * Events of a deployment carry seq 1, 2, 3, ... with no holes, from two sources that overlap
 * (ClickHouse history and the live feed, both at-least-once). So a cursor needs only the last
 * seq it sent: the next one is sent from whichever source has it first, anything further ahead
 * waits in `pending`, and anything at or below `lastSeq` is a repeat and is dropped.
 */
export interface SeqCursor {
  /** The highest seq handed out: every event up to it was sent once, in order. */
  lastSeq: number;
  /** Events past `lastSeq + 1`, waiting for the ones before them. */
  readonly pending: Map<number, BuildEvent>;
  /**
   * The live feed had passed this seq when the client subscribed: those events will not come
   * live again, so history must be read until it has given them (the history → live switch).
   */
  readonly mustReach: number;
  /** A terminal status was handed out: the stream has ended and takes nothing more. */
  ended: boolean;
}

export function newCursor(afterSeq: number, mustReach: number): SeqCursor {
  return { lastSeq: afterSeq, pending: new Map(), mustReach, ended: false };
}

export type Taken =
  /** In order: send these now (possibly none, for a repeat). */
  | { kind: 'send'; events: BuildEvent[] }
  /** Ahead of the cursor: kept; the hole before it must be read from history. */
  | { kind: 'hole' }
  /** Ahead, and `pending` has grown past its bound: the subscriber cannot keep up. */
  | { kind: 'overflow' };

/**
 * Takes one event from any source. Returns the events that are now in order (this one and
 * whatever it unblocked from `pending`), advancing the cursor past them; a terminal status
 * ends the stream, and nothing after it is handed out.
 */
export function take(cursor: SeqCursor, event: BuildEvent, maxPending: number): Taken {
  if (cursor.ended || event.seq <= cursor.lastSeq) return { kind: 'send', events: [] };
  if (event.seq !== cursor.lastSeq + 1) {
    cursor.pending.set(event.seq, event);
    return cursor.pending.size > maxPending ? { kind: 'overflow' } : { kind: 'hole' };
  }
  const events: BuildEvent[] = [];
  for (let next: BuildEvent | undefined = event; next && !cursor.ended; next = cursor.pending.get(cursor.lastSeq + 1)) {
    cursor.pending.delete(next.seq);
    cursor.lastSeq = next.seq;
    events.push(next);
    if (next.type === 'status' && isTerminalStatus(next.status)) cursor.ended = true;
  }
  if (cursor.ended) cursor.pending.clear();
  return { kind: 'send', events };
}

/** Nothing waits and the live feed's head at subscribe time has been reached: history is done. */
export function caughtUp(cursor: SeqCursor): boolean {
  return cursor.pending.size === 0 && cursor.lastSeq >= cursor.mustReach;
}

export type PageOutcome =
  /** The page was full: read the next one at once. */
  | 'more'
  /** History has given everything up to the live feed: stop reading. */
  | 'done'
  /** The page moved the cursor but not to the end: read again at once. */
  | 'progress'
  /** Nothing new in history: the hole may be lost (skip it) or not stored yet (retry later). */
  | 'stalled';

/** What a replay loop does after a page of `pageLength` events read after seq `from`. */
export function afterPage(cursor: SeqCursor, from: number, pageLength: number, pageSize: number): PageOutcome {
  if (pageLength === pageSize) return 'more';
  if (cursor.ended || caughtUp(cursor)) return 'done';
  return cursor.lastSeq > from ? 'progress' : 'stalled';
}

/**
 * The seq just past the hole the cursor waits on: the first pending event, or (with nothing
 * pending) the first seq after the live feed's head at subscribe time. Undefined: no hole.
 */
export function holeEnd(cursor: SeqCursor): number | undefined {
  let min: number | undefined;
  for (const seq of cursor.pending.keys()) if (min === undefined || seq < min) min = seq;
  if (min !== undefined) return min;
  return cursor.mustReach > cursor.lastSeq ? cursor.mustReach + 1 : undefined;
}

/**
 * Gives up on the events before `upTo` (the writer provably passed them without storing them:
 * they were malformed and dropped), and hands out whatever that unblocks.
 */
export function skipHole(cursor: SeqCursor, upTo: number, maxPending: number): BuildEvent[] {
  if (cursor.ended || upTo - 1 <= cursor.lastSeq) return [];
  cursor.lastSeq = upTo - 1;
  const next = cursor.pending.get(upTo);
  if (!next) return [];
  cursor.pending.delete(upTo);
  const taken = take(cursor, next, maxPending);
  return taken.kind === 'send' ? taken.events : [];
}

/** Exponential backoff between reads of a hole history does not hold yet. */
export function backoffMs(stalls: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(stalls, 10));
}

/**
 * The highest seq seen per deployment, bounded to the most recent `cap` deployments (the
 * oldest forgotten first): the live feed's head, which a new subscriber must reach.
 */
export class HighWater {
  private readonly seqs = new Map<string, number>();

  constructor(private readonly cap: number) {}

  get(deploymentId: string): number {
    return this.seqs.get(deploymentId) ?? 0;
  }

  /** Returns true when `seq` is new for the deployment. */
  note(deploymentId: string, seq: number): boolean {
    const seen = this.seqs.get(deploymentId);
    if (seen !== undefined && seen >= seq) return false;
    this.seqs.set(deploymentId, seq);
    if (seen === undefined && this.seqs.size > this.cap) {
      const oldest = this.seqs.keys().next().value;
      if (oldest !== undefined) this.seqs.delete(oldest);
    }
    return true;
  }
}
