import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from '@platform/logger';

export interface ApiForwarder {
  web(req: IncomingMessage, res: ServerResponse): void;
  /** A websocket upgrade (socket.io live logs) passed through to the api-server. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/**
 * Makes the proxy the single ingress: `api.<ROOT_DOMAIN>` is forwarded to the api-server,
 * websockets included, with X-Forwarded-For/Proto/Host set. An unreachable api-server is a
 * 502 with a JSON error, never a crash.
 */
export function createApiForwarder(options: { target: string; idleTimeoutMs: number; logger: Logger }): ApiForwarder {
  const log = options.logger.child({ component: 'api-forward' });
  const proxy = httpProxy.createProxyServer({ target: options.target, xfwd: true, ws: true, changeOrigin: false });
  proxy.on('error', (err, _req, resOrSocket) => {
    log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'forwarding to the api-server failed');
    if (isResponse(resOrSocket)) {
      if (resOrSocket.headersSent) {
        resOrSocket.destroy();
        return;
      }
      const body = JSON.stringify({ error: { code: 'bad_gateway', message: 'the API is unavailable; try again shortly' } });
      resOrSocket.writeHead(502, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      resOrSocket.end(body);
    } else {
      (resOrSocket as Duplex).destroy();
    }
  });
  // Either end of a websocket going away closes the other: no half-dead upstream connections.
  proxy.on('proxyReqWs', (proxyReq, _req, socket: Duplex) => {
    proxyReq.on('upgrade', (_res, upstream: Duplex) => {
      // 'end' too: HTTP server sockets allow half-open connections, which a websocket never wants.
      const closeBoth = () => {
        socket.destroy();
        upstream.destroy();
      };
      for (const event of ['end', 'close'] as const) {
        socket.once(event, closeBoth);
        upstream.once(event, closeBoth);
      }
    });
  });
  return {
    web(req, res) {
      // API calls may hold a connection open longer than a static file (long polling).
      req.socket.setTimeout(options.idleTimeoutMs);
      proxy.web(req, res);
    },
    upgrade(req, socket, head) {
      // After the upgrade the socket belongs to the websocket: no idle timeout from the HTTP server.
      if (socket instanceof Socket) socket.setTimeout(0);
      proxy.ws(req, socket, head);
    },
    close: () => proxy.close(),
  };
}

function isResponse(value: unknown): value is ServerResponse {
  return typeof (value as ServerResponse)?.writeHead === 'function';
}
