/** A socket.io client of one deployment's live build log, as the dashboard's log viewer uses it. */
import { io, type Socket } from 'socket.io-client';
import { defaultTokenFor } from './http.ts';

export interface ReceivedEvent {
  event: 'log' | 'status';
  seq: number;
  ts: number;
  status?: string;
  message?: string;
  receivedAt: number;
}

/**
 * A socket.io client of one deployment's live log. It resubscribes with the last seq it has
 * after every reconnect, as a browser would; `ended` resolves at a terminal status.
 */
export class LogClient {
  readonly received: ReceivedEvent[] = [];
  readonly ended: Promise<ReceivedEvent>;
  readonly errors: unknown[] = [];
  private socket: Socket | undefined;
  private endedResolve!: (e: ReceivedEvent) => void;

  constructor(
    private readonly deploymentId: string,
    private readonly afterSeq = 0,
    /** Credential for the socket handshake; by default the one `http()` sends to the URL connected to. */
    private readonly token?: string,
  ) {
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
  }

  get lastSeq(): number {
    return this.received.at(-1)?.seq ?? this.afterSeq;
  }

  /** Connects (again) to `url` and subscribes after the last seq received. */
  async connect(url: string): Promise<{ ok: boolean; status?: string; error?: string }> {
    this.socket?.disconnect();
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: this.token ?? defaultTokenFor(url) } });
    this.socket = socket;
    socket.on('log', (e: { seq: number; ts: number; message: string }) => {
      this.received.push({ event: 'log', seq: e.seq, ts: e.ts, message: e.message, receivedAt: Date.now() });
    });
    socket.on('status', (e: { seq: number; status: string }) => {
      const got: ReceivedEvent = { event: 'status', seq: e.seq, ts: 0, status: e.status, receivedAt: Date.now() };
      this.received.push(got);
      if (['READY', 'ERROR', 'CANCELED'].includes(e.status)) this.endedResolve(got);
    });
    socket.on('stream-error', (e: unknown) => this.errors.push(e));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket.emitWithAck('subscribe', { deploymentId: this.deploymentId, afterSeq: this.lastSeq });
  }

  disconnect(): void {
    this.socket?.disconnect();
  }

  /** The seq numbers received, in the order they arrived. */
  seqs(): number[] {
    return this.received.map((r) => r.seq);
  }
}

/** [from, from + 1, ..., to] */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
