import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Socket } from 'node:net';

/**
 * What one connection may cost the proxy, and the bookkeeping that lets `close()` end them
 * all. The proxy faces the internet directly, so each limit is there for a client that is
 * slow or silent on purpose (slowloris): receiving a request is bounded by `requestTimeoutMs`
 * (headers by at most 10 s), so is any silence on a connection, and a connection that never
 * sends a byte is closed after the same time even when Node's idle timer misses it.
 */
export class Connections {
  /** Every open socket: the HTTP server's own list misses a connection that has not sent a request yet, and server.close() would wait for it. */
  private readonly open = new Set<Socket>();
  /** Upgraded sockets leave the HTTP server's bookkeeping: tracked here so close() ends them. */
  private readonly upgraded = new Set<Socket>();
  readonly server: Server;

  constructor(
    listener: RequestListener,
    private readonly requestTimeoutMs: number,
    /** Given: an HTTPS server (SNI, contexts) with the same limits. */
    tls?: HttpsServerOptions,
  ) {
    const limits = {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 10_000),
      keepAliveTimeout: 5_000,
      // How often those two limits are checked (Node's default, 30 s, lets a slow client linger far past them).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
    };
    this.server = tls ? createHttpsServer({ ...limits, ...tls }, listener) : createServer(limits, listener);
    // A client that stops reading (or sends nothing) is cut off after this much silence.
    this.server.setTimeout(requestTimeoutMs, (socket: Socket) => socket.destroy());
    // A TLS server reports the raw TCP socket here too, so slowloris limits hold during the handshake.
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) return socket.destroy();
      refuse(
        socket,
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request',
      );
    });
  }

  /** A socket the server no longer manages (a websocket handed to the api-server). */
  adoptUpgraded(socket: Socket): void {
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
  }

  /** Ends every connection, idle, busy or upgraded; with server.close() nothing is left to wait for. */
  destroyAll(): void {
    this.server.closeAllConnections();
    for (const socket of this.upgraded) socket.destroy();
    for (const socket of this.open) socket.destroy();
  }

  private track(socket: Socket): void {
    this.open.add(socket);
    // Node's idle timer now and then lets a connection that never sends a byte linger (seen in
    // about one run in six under load); a connection still silent after the request timeout is
    // closed here regardless. One timer per connection, cleared when it closes.
    const silent = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, this.requestTimeoutMs);
    silent.unref();
    socket.once('close', () => {
      clearTimeout(silent);
      this.open.delete(socket);
    });
  }
}

/** How long a refused connection may take to flush its answer before it is destroyed regardless. */
const REFUSE_GRACE_MS = 1_000;

/** An answer on a raw socket (no request object exists), then closed for good: a half-open socket would let a slow client linger. */
export function refuse(socket: Socket, status: string): void {
  // The end callback alone was seen not to fire under load (the client had the 408 but no
  // close): a grace timer destroys the socket whatever happens to the flush.
  const grace = setTimeout(() => socket.destroy(), REFUSE_GRACE_MS);
  grace.unref();
  socket.once('close', () => clearTimeout(grace));
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}
