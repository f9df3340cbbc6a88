import type { Server as HttpServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server as SocketServer, type Socket } from 'socket.io';
import { z } from 'zod';
import { isTerminalStatus, type BuildEvent } from '@platform/contracts';
import type { LogStore } from '@platform/clickhouse';
import type { Logger } from '@platform/logger';
import type { DeploymentRow, DeploymentsRepo } from './deployments/deployments-repo.ts';

const subscribeSchema = z.object({
  deploymentId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'deploymentId must be an id'),
  /** The last seq the client already has; history resumes after it. */
  afterSeq: z.number().int().nonnegative().default(0),
});

/** Who may connect (a JWT or API token in the handshake) and read which deployment's logs. */
export interface LiveLogsAccess {
  userFor(token: string): Promise<{ id: string } | null>;
  canRead(userId: string, deployment: DeploymentRow): Promise<boolean>;
}

/** Events read from ClickHouse per query while replaying history or filling a hole. */
const REPLAY_PAGE = 10_000;

export interface LiveLogsOptions {
  /** How often deployments with subscribers are checked for an end that sent no status event. Default 5 s. */
  sweepIntervalMs?: number;
  /** Backoff while a hole in the seq numbers cannot be filled from ClickHouse yet. */
  fillRetryBaseMs?: number;
  fillRetryMaxMs?: number;
  /** A subscriber holding more out-of-order events than this gets `stream-error` (it may resubscribe). */
  maxPendingEvents?: number;
}

interface Subscriber {
  socket: Socket;
  deploymentId: string;
  /** The highest seq sent: every event up to it went to the client, once, in order. */
  lastSeq: number;
  /** Events past `lastSeq + 1`, waiting for the ones before them (from ClickHouse or live). */
  pending: Map<number, BuildEvent>;
  /** The replay loop (history, or filling a hole) running for this subscriber. */
  replaying: Promise<void> | null;
  /** Read ClickHouse once more when the running replay ends. */
  replayAgain: boolean;
  /**
   * The live feed had passed this seq when the client subscribed: those events will not come
   * live again, so replay goes on until ClickHouse has given them.
   */
  mustReach: number;
  closed: boolean;
}

/**
 * socket.io live logs. A client emits `subscribe { deploymentId, afterSeq }`; it receives
 * `log` and `status` events, each once and in seq order, history after `afterSeq` from
 * ClickHouse first and then live, and the stream ends with a terminal `status`.
 *
 * Events of a deployment carry seq 1, 2, 3, ... with no holes, so each subscriber only
 * tracks the last seq it sent: the next one is sent at once from whichever source has it
 * (ClickHouse or the live feed); anything further ahead waits in `pending` while the hole
 * before it is read from ClickHouse. The live feed comes from this replica's own consumer
 * and may run ahead of the writer, so a hole is retried until the writer has stored it.
 */
export class LiveLogs {
  private readonly io: SocketServer;
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  /** Highest seq the live feed has delivered, per deployment (the most recent 50,000). */
  private readonly liveHighWater = new Map<string, number>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    httpServer: HttpServer,
    private readonly deps: { logStore: LogStore; deployments: DeploymentsRepo; logger: Logger; access?: LiveLogsAccess },
    private readonly options: LiveLogsOptions = {},
  ) {
    this.log = deps.logger;
    this.io = new SocketServer(httpServer, { cors: { origin: true }, serveClient: false });
    const access = deps.access;
    if (access) {
      // The handshake carries the credential (`io(url, { auth: { token } })`); no token, no socket.
      this.io.use((socket, next) => {
        const token: unknown = socket.handshake.auth?.token;
        if (typeof token !== 'string' || token.length === 0) return next(new Error('unauthenticated: pass auth.token'));
        access.userFor(token).then(
          (user) => {
            if (!user) return next(new Error('unauthenticated: the token is invalid, expired or revoked'));
            socket.data.userId = user.id;
            next();
          },
          () => next(new Error('unauthenticated: could not check the token')),
        );
      });
    }
    this.io.on('connection', (socket) => this.onConnection(socket));
    this.sweepTimer = setInterval(() => void this.sweepFinished(), options.sweepIntervalMs ?? 5_000);
    this.sweepTimer.unref();
  }

  /** Live delivery of a batch of events (in seq order per deployment; duplicates allowed). */
  deliver(events: readonly BuildEvent[]): void {
    for (const event of events) {
      this.noteLive(event);
      const subs = this.subscribers.get(event.deploymentId);
      if (!subs) continue;
      for (const sub of subs) this.accept(sub, event);
    }
  }

  private noteLive(event: BuildEvent): void {
    // Kept past the terminal event too: a client joining before the writer stored it must
    // still wait for it in ClickHouse.
    const seen = this.liveHighWater.get(event.deploymentId);
    if (seen !== undefined && seen >= event.seq) return;
    this.liveHighWater.set(event.deploymentId, event.seq);
    if (seen === undefined && this.liveHighWater.size > 50_000) {
      const oldest = this.liveHighWater.keys().next().value;
      if (oldest !== undefined) this.liveHighWater.delete(oldest);
    }
  }

  /** Sockets subscribed to a deployment on this replica. */
  subscriberCount(deploymentId: string): number {
    return this.subscribers.get(deploymentId)?.size ?? 0;
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const subs of this.subscribers.values()) for (const sub of subs) sub.closed = true;
    this.subscribers.clear();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    const mine = new Set<Subscriber>();
    socket.on('subscribe', async (payload: unknown, ack?: (reply: unknown) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const parsed = subscribeSchema.safeParse(payload);
      if (!parsed.success) {
        reply({ ok: false, error: `invalid subscribe: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
        return;
      }
      const { deploymentId, afterSeq } = parsed.data;
      const deployment = await this.deps.deployments.get(deploymentId).catch((err: unknown) => {
        this.log.error({ err, deploymentId }, 'looking up a deployment to subscribe failed');
        return undefined;
      });
      if (deployment === undefined) {
        reply({ ok: false, error: 'could not look up the deployment; retry' });
        return;
      }
      // Another tenant's deployment gets the same answer as a missing one.
      if (!deployment || (this.deps.access && !(await this.deps.access.canRead(String(socket.data.userId), deployment)))) {
        reply({ ok: false, error: 'deployment not found' });
        return;
      }
      // Gone while the lookup ran: registering now would leak a subscriber nobody removes.
      if (socket.disconnected) return;
      // A second subscribe to the same deployment replaces the first (a client resuming).
      for (const old of mine) if (old.deploymentId === deploymentId) this.remove(old), mine.delete(old);
      // Registered before history is read: live events from now on are kept, none is missed.
      const sub: Subscriber = {
        socket,
        deploymentId,
        lastSeq: afterSeq,
        pending: new Map(),
        replaying: null,
        replayAgain: false,
        mustReach: this.liveHighWater.get(deploymentId) ?? 0,
        closed: false,
      };
      let subs = this.subscribers.get(deploymentId);
      if (!subs) this.subscribers.set(deploymentId, (subs = new Set()));
      subs.add(sub);
      mine.add(sub);
      reply({ ok: true, status: deployment.status });
      // Status first, history second: the consumer writes ClickHouse before the DB, so a
      // terminal status seen here means the history read next is complete.
      const current = await this.deps.deployments.get(deploymentId).catch(() => deployment);
      await this.replay(sub);
      // The build ended before this client joined and its history held no terminal event
      // (the client had it already, or the platform ended the build): close with the DB's word.
      if (current && isTerminalStatus(current.status) && !sub.closed && sub.pending.size === 0 && sub.lastSeq >= sub.mustReach) this.finishFromDb(sub, current);
    });
    socket.on('unsubscribe', (payload: unknown) => {
      const id = (payload as { deploymentId?: unknown })?.deploymentId;
      for (const sub of mine) if (sub.deploymentId === id) this.remove(sub), mine.delete(sub);
    });
    socket.on('disconnect', () => {
      for (const sub of mine) this.remove(sub);
      mine.clear();
    });
  }

  /** Takes one event from any source: sends it if it is the next one, keeps it if it is ahead. */
  private accept(sub: Subscriber, event: BuildEvent): void {
    if (sub.closed || event.seq <= sub.lastSeq) return;
    if (event.seq !== sub.lastSeq + 1) {
      sub.pending.set(event.seq, event);
      if (sub.pending.size > (this.options.maxPendingEvents ?? 100_000)) {
        this.log.warn({ deploymentId: sub.deploymentId, lastSeq: sub.lastSeq }, 'subscriber fell too far behind; ending its stream');
        sub.socket.emit('stream-error', { deploymentId: sub.deploymentId, message: 'the log stream fell behind; resubscribe with your last seq' });
        this.remove(sub);
        return;
      }
      if (!sub.replaying) void this.replay(sub);
      return;
    }
    this.send(sub, event);
    for (let next = sub.pending.get(sub.lastSeq + 1); next && !sub.closed; next = sub.pending.get(sub.lastSeq + 1)) {
      sub.pending.delete(next.seq);
      this.send(sub, next);
    }
  }

  /**
   * Reads from ClickHouse everything stored after the subscriber's last seq, until nothing is
   * pending. A hole ClickHouse does not hold yet (the writer is behind the live feed, or
   * ClickHouse is down) is retried with backoff; a hole the writer has provably passed without
   * storing it (a malformed event it dropped) is skipped. A call while a replay runs makes it
   * read once more after it finishes, so the caller's read starts after its call.
   */
  private replay(sub: Subscriber): Promise<void> {
    sub.replayAgain = true;
    sub.replaying ??= this.runReplay(sub);
    return sub.replaying;
  }

  private async runReplay(sub: Subscriber): Promise<void> {
    const base = this.options.fillRetryBaseMs ?? 25;
    const max = this.options.fillRetryMaxMs ?? 1_000;
    await null; // never finish synchronously: `replay` stores this promise first
    try {
      while (sub.replayAgain && !sub.closed) {
        sub.replayAgain = false;
        for (let stalls = 0; !sub.closed; ) {
          const from = sub.lastSeq;
          let page: BuildEvent[];
          try {
            page = await this.deps.logStore.readEvents(sub.deploymentId, { afterSeq: from, limit: REPLAY_PAGE });
          } catch (err) {
            this.log.warn({ err, deploymentId: sub.deploymentId }, 'reading log history failed; retrying');
            await sleep(Math.min(max, base * 2 ** Math.min(stalls++, 10)));
            continue;
          }
          for (const event of page) this.accept(sub, event);
          if (page.length === REPLAY_PAGE) continue;
          if (sub.pending.size === 0 && sub.lastSeq >= sub.mustReach) break;
          if (sub.lastSeq > from) {
            stalls = 0;
            continue;
          }
          if (await this.skipLostHole(sub)) continue;
          await sleep(Math.min(max, base * 2 ** Math.min(stalls++, 10)));
        }
      }
    } finally {
      // Cleared in the same tick the loop decides to stop, so an event that arrives next
      // starts a new replay instead of waiting on one that has ended.
      sub.replaying = null;
    }
  }

  /**
   * The writer stores a batch before it applies the batch's status events, so once the DB has
   * applied a status event past the hole, every event before it that the writer ever received
   * is in ClickHouse. If the hole is still empty then, its events were never deliverable.
   */
  private async skipLostHole(sub: Subscriber): Promise<boolean> {
    const upTo = this.firstPending(sub) ?? (sub.mustReach > sub.lastSeq ? sub.mustReach + 1 : undefined);
    if (!upTo) return false;
    const row = await this.deps.deployments.get(sub.deploymentId).catch(() => null);
    if (!row || row.last_event_seq < upTo) return false;
    const from = sub.lastSeq;
    const again = await this.deps.logStore.readEvents(sub.deploymentId, { afterSeq: from, beforeSeq: upTo, limit: REPLAY_PAGE }).catch(() => null);
    if (!again) return false;
    for (const event of again) this.accept(sub, event);
    if (sub.closed || sub.lastSeq >= upTo - 1 || again.length > 0) return true;
    this.log.warn({ deploymentId: sub.deploymentId, fromSeq: from + 1, toSeq: upTo - 1 }, 'events missing from the stream; skipping them');
    sub.lastSeq = upTo - 1;
    const next = sub.pending.get(upTo);
    if (next) {
      sub.pending.delete(upTo);
      this.accept(sub, next);
    }
    return true;
  }

  private firstPending(sub: Subscriber): number | undefined {
    let min: number | undefined;
    for (const seq of sub.pending.keys()) if (min === undefined || seq < min) min = seq;
    return min;
  }

  /**
   * A build the platform ended itself (timeout, lost task) sends no terminal status event:
   * streams of deployments the DB shows as ended are caught up from ClickHouse and closed.
   */
  private async sweepFinished(): Promise<void> {
    for (const [deploymentId, subs] of [...this.subscribers]) {
      const row = await this.deps.deployments.get(deploymentId).catch(() => null);
      if (!row || !isTerminalStatus(row.status)) continue;
      for (const sub of [...subs]) {
        await this.replay(sub);
        if (!sub.closed && sub.pending.size === 0 && sub.lastSeq >= sub.mustReach) this.finishFromDb(sub, row);
      }
    }
  }

  private finishFromDb(sub: Subscriber, row: Pick<DeploymentRow, 'last_event_seq' | 'status' | 'error_message'>): void {
    // No event carries this status: it takes the last seq the client has, so resuming after it
    // finds nothing new.
    sub.lastSeq = Math.max(sub.lastSeq, row.last_event_seq);
    sub.socket.emit('status', { deploymentId: sub.deploymentId, seq: sub.lastSeq, status: row.status, detail: row.error_message ?? undefined });
    this.remove(sub);
  }

  private send(sub: Subscriber, event: BuildEvent): void {
    sub.lastSeq = event.seq;
    if (event.type === 'log') {
      sub.socket.emit('log', { deploymentId: event.deploymentId, seq: event.seq, ts: event.ts, stream: event.stream, message: event.message });
    } else {
      sub.socket.emit('status', { deploymentId: event.deploymentId, seq: event.seq, status: event.status, detail: event.detail });
      if (isTerminalStatus(event.status)) this.remove(sub);
    }
  }

  private remove(sub: Subscriber): void {
    sub.closed = true;
    sub.pending.clear();
    const subs = this.subscribers.get(sub.deploymentId);
    subs?.delete(sub);
    if (subs && subs.size === 0) this.subscribers.delete(sub.deploymentId);
  }
}
