import type { Server as HttpServer } from 'node:http';
import { Server as SocketServer, type Socket } from 'socket.io';
import {
  isTerminalStatus,
  subscribeRequestSchema,
  type BuildEvent,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SubscribeAck,
} from '@platform/contracts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import { CredentialWatch } from './credential-watch.ts';
import { HighWater } from './replay.ts';
import { LogStream, type StreamDeps } from './stream.ts';

/** Who may connect (a JWT or API token in the handshake) and read which deployment's logs. */
export interface LiveLogsAccess {
  userFor(token: string): Promise<{ id: string } | null>;
  /** `userFor` again for an open socket's credential (no new use recorded); default `userFor`. */
  stillValid?(token: string): Promise<{ id: string } | null>;
  canRead(userId: string, deployment: DeploymentRow): Promise<boolean>;
  /** Calls the listener after every revocation on this replica; returns what unsubscribes. */
  onRevoked?(listener: () => void): () => void;
}

interface SocketData {
  userId?: string;
  /** The handshake's credential, re-checked while the socket is open (credential-watch.ts). */
  token?: string;
}
type LogSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * The socket.io surface of live logs (the protocol is in `@platform/contracts`). A client
 * emits `subscribe { deploymentId, afterSeq }`; its stream (stream.ts) sends history after
 * `afterSeq` and then live events, each once and in order, and ends with a terminal status.
 * Live events reach the streams through `deliver`, from this replica's live feed.
 */
export class LiveLogsServer {
  private readonly io: SocketServer<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  private readonly streams = new Map<string, Set<LogStream>>();
  /** Highest seq the live feed has delivered, per deployment (the most recent 50,000). */
  private readonly liveHead = new HighWater(50_000);
  private stopWatch: () => void = () => {};

  constructor(
    httpServer: HttpServer,
    private readonly deps: StreamDeps & { access?: LiveLogsAccess; credentialRecheckMs?: number },
  ) {
    this.io = new SocketServer(httpServer, { cors: { origin: true }, serveClient: false });
    const access = deps.access;
    if (access) {
      this.io.use((socket, next) => authenticate(access, socket, next));
      // A revoked or expired credential's sockets are disconnected within a second.
      const watch = new CredentialWatch(
        {
          sockets: () => this.io.of('/').sockets.values(),
          userFor: (token) => (access.stillValid ? access.stillValid(token) : access.userFor(token)),
          logger: deps.logger,
        },
        deps.credentialRecheckMs ?? 1_000,
      );
      const unsubscribe = access.onRevoked?.(() => void watch.kick());
      this.stopWatch = () => {
        watch.stop();
        unsubscribe?.();
      };
    }
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  /** Live delivery of a batch of events (in seq order per deployment; duplicates allowed). */
  deliver(events: readonly BuildEvent[]): void {
    for (const event of events) {
      // Kept past the terminal event too: a client joining before the writer stored it must
      // still wait for it in ClickHouse.
      this.liveHead.note(event.deploymentId, event.seq);
      const streams = this.streams.get(event.deploymentId);
      if (streams) for (const stream of streams) stream.accept(event);
    }
  }

  /** Sockets subscribed to a deployment on this replica. */
  subscriberCount(deploymentId: string): number {
    return this.streams.get(deploymentId)?.size ?? 0;
  }

  /**
   * A build the platform ended itself (timeout, lost task) sends no terminal status event:
   * streams of deployments the DB shows as ended are caught up from ClickHouse and closed.
   */
  async sweepFinished(): Promise<void> {
    for (const [deploymentId, streams] of [...this.streams]) {
      const row = await this.deps.getRow(deploymentId).catch(() => null);
      if (!row || !isTerminalStatus(row.status)) continue;
      for (const stream of [...streams]) {
        await stream.replay();
        stream.finishFromRow(row);
      }
    }
  }

  async close(): Promise<void> {
    this.stopWatch();
    for (const streams of [...this.streams.values()]) for (const stream of [...streams]) stream.close();
    this.streams.clear();
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  private onConnection(socket: LogSocket): void {
    const mine = new Set<LogStream>();
    socket.on('subscribe', async (payload: unknown, ack?: (reply: SubscribeAck) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const stream = await this.subscribe(socket, payload, mine, reply);
      if (!stream) return;
      // Status first, history second: the writer stores ClickHouse before the DB, so a
      // terminal status seen here means the history read next is complete.
      const current = await this.deps.getRow(stream.deploymentId).catch(() => null);
      await stream.replay();
      // The build ended before this client joined and its history held no terminal event
      // (the client had it already, or the platform ended the build): close with the DB's word.
      if (current && isTerminalStatus(current.status)) stream.finishFromRow(current);
    });
    socket.on('unsubscribe', (payload: unknown) => {
      const id = (payload as { deploymentId?: unknown })?.deploymentId;
      for (const stream of mine) {
        if (stream.deploymentId !== id) continue;
        stream.close();
        mine.delete(stream);
      }
    });
    socket.on('disconnect', () => {
      for (const stream of mine) stream.close();
      mine.clear();
    });
  }

  /** Checks a subscribe request and registers its stream; answers the ack either way. */
  private async subscribe(socket: LogSocket, payload: unknown, mine: Set<LogStream>, reply: (r: SubscribeAck) => void): Promise<LogStream | null> {
    const parsed = subscribeRequestSchema.safeParse(payload);
    if (!parsed.success) {
      reply({ ok: false, error: `invalid subscribe: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
      return null;
    }
    const { deploymentId, afterSeq } = parsed.data;
    const deployment = await this.deps.getRow(deploymentId).catch((err: unknown) => {
      this.deps.logger.error({ err, deploymentId }, 'looking up a deployment to subscribe failed');
      return undefined;
    });
    if (deployment === undefined) {
      reply({ ok: false, error: 'could not look up the deployment; retry' });
      return null;
    }
    // Another tenant's deployment gets the same answer as a missing one.
    if (!deployment || (this.deps.access && !(await this.deps.access.canRead(String(socket.data.userId), deployment)))) {
      reply({ ok: false, error: 'deployment not found' });
      return null;
    }
    // Gone while the lookup ran: registering now would leak a stream nobody removes.
    if (socket.disconnected) return null;
    // A second subscribe to the same deployment replaces the first (a client resuming).
    for (const old of mine) {
      if (old.deploymentId !== deploymentId) continue;
      old.close();
      mine.delete(old);
    }
    // Registered before history is read: live events from now on are kept, none is missed.
    const stream = new LogStream(deploymentId, socket, afterSeq, this.liveHead.get(deploymentId), this.deps, (s) => this.forget(s));
    let streams = this.streams.get(deploymentId);
    if (!streams) {
      streams = new Set();
      this.streams.set(deploymentId, streams);
    }
    streams.add(stream);
    mine.add(stream);
    reply({ ok: true, status: deployment.status });
    return stream;
  }

  private forget(stream: LogStream): void {
    const streams = this.streams.get(stream.deploymentId);
    streams?.delete(stream);
    if (streams && streams.size === 0) this.streams.delete(stream.deploymentId);
  }
}

/** The handshake carries the credential (`io(url, { auth: { token } })`); no token, no socket. */
function authenticate(access: LiveLogsAccess, socket: LogSocket, next: (err?: Error) => void): void {
  const token: unknown = socket.handshake.auth?.token;
  if (typeof token !== 'string' || token.length === 0) {
    next(new Error('unauthenticated: pass auth.token'));
    return;
  }
  access.userFor(token).then(
    (user) => {
      if (!user) return next(new Error('unauthenticated: the token is invalid, expired or revoked'));
      socket.data.userId = user.id;
      socket.data.token = token;
      next();
    },
    () => next(new Error('unauthenticated: could not check the token')),
  );
}
