import type { Server as HttpServer } from 'node:http';
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

interface Subscriber {
  socket: Socket;
  deploymentId: string;
  lastSeq: number;
  /** While history is read from ClickHouse, live events wait here. */
  buffer: BuildEvent[] | null;
}

/**
 * socket.io live logs. A client emits `subscribe { deploymentId, afterSeq }`; it receives
 * `log` events (history after `afterSeq` from ClickHouse, then live) and `status` events,
 * each once and in seq order: live events that arrive while history is read are buffered
 * and replayed past the last seq sent.
 */
export class LiveLogs {
  private readonly io: SocketServer;
  private readonly subscribers = new Map<string, Set<Subscriber>>();

  constructor(
    httpServer: HttpServer,
    private readonly deps: { logStore: LogStore; deployments: DeploymentsRepo; logger: Logger; access?: LiveLogsAccess },
  ) {
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
  }

  /** Live delivery of a batch of events (in seq order per deployment). */
  deliver(events: readonly BuildEvent[]): void {
    for (const event of events) {
      const subs = this.subscribers.get(event.deploymentId);
      if (!subs) continue;
      for (const sub of subs) {
        if (sub.buffer) sub.buffer.push(event);
        else this.send(sub, event);
      }
    }
  }

  async close(): Promise<void> {
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
      const deployment = await this.deps.deployments.get(deploymentId);
      // Another tenant's deployment gets the same answer as a missing one.
      if (!deployment || (this.deps.access && !(await this.deps.access.canRead(String(socket.data.userId), deployment)))) {
        reply({ ok: false, error: 'deployment not found' });
        return;
      }
      const sub: Subscriber = { socket, deploymentId, lastSeq: afterSeq, buffer: [] };
      let subs = this.subscribers.get(deploymentId);
      if (!subs) this.subscribers.set(deploymentId, (subs = new Set()));
      subs.add(sub);
      mine.add(sub);
      reply({ ok: true, status: deployment.status });
      try {
        // Status first, history second: the consumer writes ClickHouse before the DB, so a
        // terminal status seen here means the history read next is complete.
        const current = await this.deps.deployments.get(deploymentId);
        const history = await this.deps.logStore.read(deploymentId, { afterSeq });
        for (const line of history) this.send(sub, { type: 'log', deploymentId, projectId: deployment.project_id, ...line });
        const buffered = sub.buffer ?? [];
        sub.buffer = null;
        for (const event of buffered) this.send(sub, event);
        // The build ended before this client joined (its terminal event was not live-delivered
        // to it): close the stream with the final status from the DB.
        if (current && isTerminalStatus(current.status) && this.subscribers.get(deploymentId)?.has(sub)) {
          sub.lastSeq = Math.max(sub.lastSeq, current.last_event_seq);
          socket.emit('status', { deploymentId, seq: current.last_event_seq, status: current.status, detail: current.error_message ?? undefined });
          this.remove(sub);
        }
      } catch (err) {
        this.deps.logger.error({ err, deploymentId }, 'reading log history failed');
        socket.emit('stream-error', { deploymentId, message: 'could not read the log history; resubscribe to retry' });
        this.remove(sub);
      }
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

  private send(sub: Subscriber, event: BuildEvent): void {
    if (event.seq <= sub.lastSeq) return;
    sub.lastSeq = event.seq;
    if (event.type === 'log') {
      sub.socket.emit('log', { deploymentId: event.deploymentId, seq: event.seq, ts: event.ts, stream: event.stream, message: event.message });
    } else {
      sub.socket.emit('status', { deploymentId: event.deploymentId, seq: event.seq, status: event.status, detail: event.detail });
      if (isTerminalStatus(event.status)) this.remove(sub);
    }
  }

  private remove(sub: Subscriber): void {
    const subs = this.subscribers.get(sub.deploymentId);
    subs?.delete(sub);
    if (subs && subs.size === 0) this.subscribers.delete(sub.deploymentId);
  }
}
