import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminalStatus, type BuildEvent, type LiveStatusMessage, type ServerToClientEvents } from '@platform/contracts';
import type { LogStore } from '@platform/clickhouse';
import type { Logger } from '@platform/logger';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { AppliedGate } from './applied-gate.ts';
import { afterPage, backoffMs, caughtUp, holeEnd, newCursor, skipHole, take, type SeqCursor } from './replay.ts';

/** Events read from ClickHouse per query while replaying history or filling a hole. */
export const REPLAY_PAGE = 10_000;

export interface StreamOptions {
  /** Backoff while a hole in the seq numbers cannot be filled from ClickHouse yet. */
  fillRetryBaseMs?: number;
  fillRetryMaxMs?: number;
  /** A subscriber holding more out-of-order events than this gets `stream-error` (it may resubscribe). */
  maxPendingEvents?: number;
}

export interface StreamDeps {
  logStore: LogStore;
  getRow: (deploymentId: string) => Promise<DeploymentRow | null>;
  gate: AppliedGate;
  logger: Logger;
  options: StreamOptions;
}

/** Where a stream sends: one socket.io socket, typed by the protocol in contracts. */
export interface StreamSink {
  emit<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>): unknown;
}

/**
 * One subscriber's log stream: every event after `afterSeq` once, in seq order, from history
 * and live, ending with a terminal status (held by the gate until the writer has applied it).
 * The ordering decisions are in replay.ts; this class reads ClickHouse and sends.
 */
export class LogStream {
  readonly cursor: SeqCursor;
  /** Unsubscribed, replaced, disconnected, or ended and sent: nothing more goes out. */
  private closed = false;
  /** The replay loop (history, or filling a hole) running for this subscriber. */
  private replaying: Promise<void> | null = null;
  /** Read ClickHouse once more when the running replay ends. */
  private replayAgain = false;

  constructor(
    readonly deploymentId: string,
    private readonly sink: StreamSink,
    afterSeq: number,
    liveHead: number,
    private readonly deps: StreamDeps,
    /** Called once when the stream takes no more events (ended or closed). */
    private readonly onDone: (stream: LogStream) => void,
  ) {
    this.cursor = newCursor(afterSeq, liveHead);
  }

  /** Ended (a terminal status was taken) or closed: takes no more events. */
  get done(): boolean {
    return this.closed || this.cursor.ended;
  }

  /** Takes one event from any source: sends what is now in order, keeps what is ahead. */
  accept(event: BuildEvent): void {
    if (this.done) return;
    const taken = take(this.cursor, event, this.deps.options.maxPendingEvents ?? 100_000);
    if (taken.kind === 'send') {
      this.send(taken.events);
      return;
    }
    if (taken.kind === 'hole') {
      if (!this.replaying) void this.replay();
      return;
    }
    this.deps.logger.warn({ deploymentId: this.deploymentId, lastSeq: this.cursor.lastSeq }, 'subscriber fell too far behind; ending its stream');
    this.sink.emit('stream-error', { deploymentId: this.deploymentId, message: 'the log stream fell behind; resubscribe with your last seq' });
    this.close();
  }

  /**
   * Reads from ClickHouse everything stored after the last seq sent, until nothing is pending
   * and the live head is reached. A call while a replay runs makes it read once more after it
   * finishes, so the caller's read starts after its call.
   */
  replay(): Promise<void> {
    this.replayAgain = true;
    this.replaying ??= this.runReplay();
    return this.replaying;
  }

  /** History of an ended build is complete and held no terminal event: close with the DB's word. */
  finishFromRow(row: Pick<DeploymentRow, 'last_event_seq' | 'status' | 'error_message'>): void {
    if (this.done || !caughtUp(this.cursor)) return;
    // No event carries this status: it takes the last seq the client has, so resuming after
    // it finds nothing new.
    this.cursor.lastSeq = Math.max(this.cursor.lastSeq, row.last_event_seq);
    this.sink.emit('status', { deploymentId: this.deploymentId, seq: this.cursor.lastSeq, status: row.status, detail: row.error_message ?? undefined });
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cursor.pending.clear();
    this.onDone(this);
  }

  private send(events: readonly BuildEvent[]): void {
    for (const event of events) {
      if (event.type === 'log') {
        this.sink.emit('log', { deploymentId: event.deploymentId, seq: event.seq, ts: event.ts, stream: event.stream, message: event.message });
        continue;
      }
      const message: LiveStatusMessage = { deploymentId: event.deploymentId, seq: event.seq, status: event.status, detail: event.detail };
      if (isTerminalStatus(event.status)) void this.sendTerminal(message);
      else this.sink.emit('status', message);
    }
  }

  /** The stream ends here: it leaves the room at once, and its last word waits for the writer. */
  private async sendTerminal(message: LiveStatusMessage): Promise<void> {
    this.onDone(this);
    await this.deps.gate.waitFor(this.deploymentId, message.seq);
    if (this.closed) return;
    this.sink.emit('status', message);
    this.closed = true;
  }

  private async runReplay(): Promise<void> {
    await null; // never finish synchronously: `replay` stores this promise first
    try {
      while (this.replayAgain && !this.done) {
        this.replayAgain = false;
        await this.readUntilCaughtUp();
      }
    } finally {
      // Cleared in the same tick the loop decides to stop, so an event that arrives next
      // starts a new replay instead of waiting on one that has ended.
      this.replaying = null;
    }
  }

  private async readUntilCaughtUp(): Promise<void> {
    const { fillRetryBaseMs = 25, fillRetryMaxMs = 1_000 } = this.deps.options;
    for (let stalls = 0; !this.done; ) {
      const from = this.cursor.lastSeq;
      const page = await this.deps.logStore.readEvents(this.deploymentId, { afterSeq: from, limit: REPLAY_PAGE }).catch((err: unknown) => {
        this.deps.logger.warn({ err, deploymentId: this.deploymentId }, 'reading log history failed; retrying');
        return null;
      });
      if (page) for (const event of page) this.accept(event);
      const outcome = page ? afterPage(this.cursor, from, page.length, REPLAY_PAGE) : 'stalled';
      if (outcome === 'done') return;
      if (outcome === 'progress') stalls = 0;
      if (outcome !== 'stalled' || (page && (await this.skipLostHole()))) continue;
      await sleep(backoffMs(stalls++, fillRetryBaseMs, fillRetryMaxMs));
    }
  }

  /**
   * The writer stores a batch before it applies the batch's status events, so once the row has
   * applied a status event past the hole, every event before it that the writer ever received
   * is in ClickHouse. If the hole is still empty then, its events were never deliverable.
   */
  private async skipLostHole(): Promise<boolean> {
    const upTo = holeEnd(this.cursor);
    if (!upTo) return false;
    const row = await this.deps.getRow(this.deploymentId).catch(() => null);
    if (!row || row.last_event_seq < upTo) return false;
    const from = this.cursor.lastSeq;
    const again = await this.deps.logStore.readEvents(this.deploymentId, { afterSeq: from, beforeSeq: upTo, limit: REPLAY_PAGE }).catch(() => null);
    if (!again) return false;
    for (const event of again) this.accept(event);
    if (this.done || this.cursor.lastSeq >= upTo - 1 || again.length > 0) return true;
    this.deps.logger.warn({ deploymentId: this.deploymentId, fromSeq: from + 1, toSeq: upTo - 1 }, 'events missing from the stream; skipping them');
    this.send(skipHole(this.cursor, upTo, this.deps.options.maxPendingEvents ?? 100_000));
    return true;
  }
}
