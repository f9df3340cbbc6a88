import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import type { CacheStatus, RouteRecord } from '@platform/contracts';
import type { EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import { createApiForwarder, type ApiForwarder } from './api-forward.ts';
import { FileCache } from './file-cache.ts';
import { HostClassifier, type HostKind } from './host.ts';
import { encodingPreference, etagMatches, parseRange } from './http-semantics.ts';
import { PAGES, type Page } from './pages.ts';
import { RequestLogger } from './request-logs.ts';
import { RouteCache, StorageTimeoutError, withTimeout } from './route-cache.ts';
import type { FileResponse, Representation, Site } from './site.ts';

export interface ProxyDeps {
  store: ObjectStore;
  /** Request logs go out on this (topic `request-logs`). */
  bus: EventBus;
  logger: Logger;
}

export interface ProxyOptions {
  /** Deployments are served under it; `api.<rootDomain>` is forwarded to the api-server. Default localhost. */
  rootDomain?: string;
  /** How long a route record is trusted before it is read again: the delay of a promote or rollback. */
  routeTtlMs: number;
  /** Where `api.<rootDomain>` is forwarded (http://host:port); unset: that host answers 404. */
  apiUpstream?: string;
  /** Receiving a request (headers and body) and socket inactivity are bounded by this. Default 30 s. */
  requestTimeoutMs?: number;
  /** A storage read taking longer answers 504. Default 10 s. */
  storageTimeoutMs?: number;
  /** Memory for hot files. Default 256 MiB. */
  fileCacheMaxBytes?: number;
  /** Larger files are streamed from storage, never held in memory. Default 8 MiB. */
  fileCacheMaxFileBytes?: number;
  /** How often request logs are published. Default 1000 ms. */
  requestLogFlushMs?: number;
}

export interface ProxyServer {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, closes connections and publishes the remaining request logs. */
  close(): Promise<void>;
  /** Counters for diagnostics and tests. */
  stats(): { fileCache: ReturnType<FileCache['stats']> };
}

/**
 * The s3-reverse-proxy factory: serves each deployment's files by hostname from the object
 * store, and forwards `api.<root>` to the api-server.
 *
 * Hot path, kept free of awaits, parsing and per-request header objects: the Host header and
 * the route record come from memoised lookups, the request path resolves through the
 * deployment's memo to a precomputed `Representation`, and a cached body goes out with one
 * `res.writeHead(status, headers)` and `res.end(buffer)`. Everything else (first read of a route,
 * manifest or file; ranges; streams of big files) takes the async path.
 */
export function createProxyServer(deps: ProxyDeps, options: ProxyOptions): ProxyServer {
  const logger = deps.logger.child({ service: 's3-reverse-proxy' });
  const rootDomain = options.rootDomain ?? 'localhost';
  const storageTimeoutMs = options.storageTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const hosts = new HostClassifier(rootDomain);
  const routes = new RouteCache(deps.store, {
    routeTtlMs: options.routeTtlMs,
    storageTimeoutMs,
    onSiteProblems: (deploymentId, problems) => logger.warn({ deploymentId, problems }, 'parts of a deployment manifest are not served'),
  });
  const cache = new FileCache({
    maxBytes: options.fileCacheMaxBytes ?? 256 * 1024 * 1024,
    maxFileBytes: options.fileCacheMaxFileBytes ?? 8 * 1024 * 1024,
  });
  const requestLogs = new RequestLogger(deps.bus, {
    instanceId: `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`,
    flushIntervalMs: options.requestLogFlushMs ?? 1_000,
    logger: logger.child({ component: 'request-logs' }),
  });
  const api: ApiForwarder | null = options.apiUpstream
    ? createApiForwarder({ target: options.apiUpstream, idleTimeoutMs: Math.max(requestTimeoutMs, 120_000), logger })
    : null;

  /** Concurrent misses of one file share one storage read. */
  const loading = new Map<string, Promise<Buffer | null>>();
  const loadFile = (rep: Representation): Promise<Buffer | null> => {
    let pending = loading.get(rep.objectKey);
    if (pending === undefined) {
      pending = withTimeout(deps.store.getBuffer(rep.objectKey), storageTimeoutMs, 'a file')
        .then((buffer) => {
          if (buffer === null) return null;
          if (buffer.length !== rep.size) throw new SizeMismatchError(rep.objectKey, rep.size, buffer.length);
          cache.set(rep.objectKey, buffer);
          return buffer;
        })
        .finally(() => loading.delete(rep.objectKey));
      loading.set(rep.objectKey, pending);
    }
    return pending;
  };

  const log = (req: IncomingMessage, host: string, route: RouteRecord, rawPath: string, status: number, bytes: number, start: number, cacheStatus: CacheStatus) => {
    requestLogs.record(Date.now(), host, route.projectId, route.deploymentId, req.method ?? 'GET', rawPath, status, bytes, performance.now() - start, cacheStatus);
  };

  const sendPage = (res: ServerResponse, page: Page, head: boolean, extraHeaders?: string[]): number => {
    res.writeHead(page.status, extraHeaders && extraHeaders.length > 0 ? withRuleHeaders(extraHeaders, page.headers) : page.headers);
    res.end(head ? undefined : page.body);
    return head ? 0 : page.body.length;
  };

  const failurePage = (err: unknown): Page => (err instanceof StorageTimeoutError ? PAGES.gatewayTimeout : PAGES.badGateway);

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    const host = hosts.classify(req.headers.host);
    if (host.kind === 'api' && api) return api.web(req, res);
    const method = req.method;
    const head = method === 'HEAD';
    if (method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      sendPage(res, PAGES.methodNotAllowed, false);
      return;
    }
    if (host.kind === 'invalid') return void sendPage(res, PAGES.badRequest, head);
    if (host.kind !== 'site') return void sendPage(res, PAGES.unknownHost, head);

    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    const route = routes.peekRoute(host.name, Date.now());
    if (route === null) return void sendPage(res, PAGES.unknownHost, head);
    const site = route === undefined ? undefined : routes.peekSite(route.deploymentId);
    if (route === undefined || site === undefined) {
      slowPath(req, res, host, rawPath, query, head, start).catch((err: unknown) => failed(err, req, res));
      return;
    }
    serve(req, res, host.name, route, site, rawPath, query, head, start);
  };

  const slowPath = async (req: IncomingMessage, res: ServerResponse, host: HostKind & { name: string }, rawPath: string, query: string, head: boolean, start: number) => {
    let route: RouteRecord | null;
    let site: Site | null;
    try {
      route = await routes.route(host.name);
      site = route ? await routes.site(route.deploymentId) : null;
    } catch (err) {
      logger.error({ err, host: host.name }, 'reading a route or manifest failed');
      sendPage(res, failurePage(err), head);
      return;
    }
    if (!route) return void sendPage(res, PAGES.unknownHost, head);
    if (!site) {
      logger.error({ host: host.name, deploymentId: route.deploymentId }, 'a route points to a deployment without a manifest');
      const bytes = sendPage(res, PAGES.unknownHost, head);
      log(req, host.name, route, rawPath, 404, bytes, start, 'NONE');
      return;
    }
    serve(req, res, host.name, route, site, rawPath, query, head, start);
  };

  const serve = (req: IncomingMessage, res: ServerResponse, host: string, route: RouteRecord, site: Site, rawPath: string, query: string, head: boolean, start: number): void => {
    const resolved = site.resolve(rawPath, route.spa);
    if (resolved.kind === 'file') return serveFile(req, res, host, route, resolved, rawPath, head, start);
    let bytes: number;
    let status: number;
    if (resolved.kind === 'redirect') {
      const location = query === '' ? resolved.location : `${resolved.location}${resolved.location.includes('?') ? '&' : '?'}${query}`;
      res.writeHead(resolved.status, withRuleHeaders(resolved.headers, ['Location', location, 'Content-Length', '0', 'Cache-Control', 'no-cache'], ['cache-control']));
      res.end();
      bytes = 0;
      status = resolved.status;
    } else if (resolved.kind === 'bad-path') {
      const page = resolved.status === 414 ? PAGES.uriTooLong : PAGES.badRequest;
      bytes = sendPage(res, page, head);
      status = page.status;
    } else {
      bytes = sendPage(res, PAGES.notFound, head, resolved.headers);
      status = 404;
    }
    log(req, host, route, rawPath, status, bytes, start, 'NONE');
  };

  const serveFile = (req: IncomingMessage, res: ServerResponse, host: string, route: RouteRecord, file: FileResponse, rawPath: string, head: boolean, start: number): void => {
    const headers = req.headers;
    const range = file.status === 200 ? headers.range : undefined;
    let rep = file.identity;
    // A range applies to the identity body; precompressed variants are sent whole.
    if (range === undefined && (file.br !== null || file.gzip !== null)) {
      const pref = encodingPreference(headers['accept-encoding']);
      const brQ = file.br !== null ? pref.br : 0;
      const gzipQ = file.gzip !== null ? pref.gzip : 0;
      if (brQ > 0 && brQ >= gzipQ) rep = file.br!;
      else if (gzipQ > 0) rep = file.gzip!;
    }
    if (file.status === 200) {
      const inm = headers['if-none-match'];
      if (inm !== undefined && etagMatches(inm, rep.etag)) {
        res.writeHead(304, rep.headersNotModified);
        res.end();
        return log(req, host, route, rawPath, 304, 0, start, 'NONE');
      }
      if (range !== undefined) {
        const ifRange = headers['if-range'];
        if (ifRange === undefined || ifRange === rep.etag) {
          serveRange(req, res, host, route, rep, range, rawPath, head, start).catch((err: unknown) => failed(err, req, res));
          return;
        }
      }
    }
    if (head) {
      res.writeHead(file.status, rep.headersBare);
      res.end();
      return log(req, host, route, rawPath, file.status, 0, start, 'NONE');
    }
    const buffer = cache.get(rep.objectKey);
    if (buffer !== undefined) {
      res.writeHead(file.status, rep.headersHit);
      res.end(buffer);
      return log(req, host, route, rawPath, file.status, buffer.length, start, 'HIT');
    }
    serveMiss(req, res, host, route, file.status, rep, rawPath, start).catch((err: unknown) => failed(err, req, res));
  };

  const serveMiss = async (req: IncomingMessage, res: ServerResponse, host: string, route: RouteRecord, status: number, rep: Representation, rawPath: string, start: number) => {
    if (cache.accepts(rep.size)) {
      let buffer: Buffer | null;
      try {
        buffer = await loadFile(rep);
      } catch (err) {
        return storageFailed(err, req, res, host, route, rep, rawPath, start);
      }
      if (buffer === null) return storageFailed(null, req, res, host, route, rep, rawPath, start);
      res.writeHead(status, rep.headersMiss);
      res.end(buffer);
      return log(req, host, route, rawPath, status, buffer.length, start, 'MISS');
    }
    let object;
    try {
      object = await withTimeout(deps.store.get(rep.objectKey), storageTimeoutMs, 'a file');
      if (object && object.size !== rep.size) {
        object.body.destroy();
        throw new SizeMismatchError(rep.objectKey, rep.size, object.size);
      }
    } catch (err) {
      return storageFailed(err, req, res, host, route, rep, rawPath, start);
    }
    if (!object) return storageFailed(null, req, res, host, route, rep, rawPath, start);
    res.writeHead(status, rep.headersMiss);
    await pipeline(object.body, res);
    log(req, host, route, rawPath, status, rep.size, start, 'MISS');
  };

  const serveRange = async (req: IncomingMessage, res: ServerResponse, host: string, route: RouteRecord, rep: Representation, header: string, rawPath: string, head: boolean, start: number) => {
    const range = parseRange(header, rep.size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, [...rep.headersBase, 'Content-Range', `bytes */${rep.size}`, 'Content-Length', '0']);
      res.end();
      return log(req, host, route, rawPath, 416, 0, start, 'NONE');
    }
    if (range === null) {
      // Not a range this proxy serves partially: the whole body, as if no Range had been sent.
      if (head) {
        res.writeHead(200, rep.headersBare);
        res.end();
        return log(req, host, route, rawPath, 200, 0, start, 'NONE');
      }
      const cached = cache.get(rep.objectKey);
      if (cached !== undefined) {
        res.writeHead(200, rep.headersHit);
        res.end(cached);
        return log(req, host, route, rawPath, 200, cached.length, start, 'HIT');
      }
      return serveMiss(req, res, host, route, 200, rep, rawPath, start);
    }
    const length = range.end - range.start + 1;
    const headers206 = [...rep.headersBase, 'Content-Range', `bytes ${range.start}-${range.end}/${rep.size}`, 'Content-Length', String(length)];
    if (head) {
      res.writeHead(206, headers206);
      res.end();
      return log(req, host, route, rawPath, 206, 0, start, 'NONE');
    }
    let cacheStatus: CacheStatus = 'HIT';
    let buffer = cache.get(rep.objectKey);
    if (buffer === undefined && cache.accepts(rep.size)) {
      cacheStatus = 'MISS';
      try {
        buffer = (await loadFile(rep)) ?? undefined;
      } catch (err) {
        return storageFailed(err, req, res, host, route, rep, rawPath, start);
      }
      if (buffer === undefined) return storageFailed(null, req, res, host, route, rep, rawPath, start);
    }
    if (buffer !== undefined) {
      res.writeHead(206, [...headers206, 'X-Cache', cacheStatus]);
      res.end(buffer.subarray(range.start, range.end + 1));
      return log(req, host, route, rawPath, 206, length, start, cacheStatus);
    }
    let object;
    try {
      object = await withTimeout(deps.store.get(rep.objectKey, { range }), storageTimeoutMs, 'a file');
    } catch (err) {
      return storageFailed(err, req, res, host, route, rep, rawPath, start);
    }
    if (!object) return storageFailed(null, req, res, host, route, rep, rawPath, start);
    res.writeHead(206, [...headers206, 'X-Cache', 'MISS']);
    await pipeline(object.body, res);
    log(req, host, route, rawPath, 206, length, start, 'MISS');
  };

  const storageFailed = (err: unknown, req: IncomingMessage, res: ServerResponse, host: string, route: RouteRecord, rep: Representation, rawPath: string, start: number) => {
    if (err === null) logger.error({ deploymentId: route.deploymentId, key: rep.objectKey }, 'a file in the manifest is missing from storage');
    else logger.error({ err, deploymentId: route.deploymentId, key: rep.objectKey }, 'reading a file from storage failed');
    const page = err === null ? PAGES.badGateway : failurePage(err);
    const bytes = sendPage(res, page, req.method === 'HEAD');
    log(req, host, route, rawPath, page.status, bytes, start, 'NONE');
  };

  const failed = (err: unknown, req: IncomingMessage, res: ServerResponse) => {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client went away
    logger.error({ err, host: req.headers.host, url: req.url }, 'serving a request failed');
    if (!res.headersSent) sendPage(res, PAGES.badGateway, req.method === 'HEAD');
    else res.destroy();
  };

  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, 10_000),
      keepAliveTimeout: 5_000,
      // How often those two limits are checked (Node's default, 30 s, lets a slow client linger far past them).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
    },
    onRequest,
  );
  // A client that stops reading (or sends nothing) is cut off after this much silence.
  server.setTimeout(requestTimeoutMs, (socket: Socket) => socket.destroy());
  // Node's idle timer now and then lets a connection that never sends a byte linger (seen in
  // about one run in six under load); a connection still silent after the request timeout is
  // closed here regardless. One timer per connection, cleared when it closes.
  // Every open socket, so that close() can end them all: the HTTP server's own list misses a
  // connection that has not sent a request yet, and server.close() would wait for it.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    const silent = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, requestTimeoutMs);
    silent.unref();
    socket.once('close', () => {
      clearTimeout(silent);
      sockets.delete(socket);
    });
  });
  // Upgraded sockets leave the HTTP server's bookkeeping: tracked here so close() ends them.
  const upgraded = new Set<Socket>();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (api && hosts.classify(req.headers.host).kind === 'api') {
      upgraded.add(socket);
      socket.once('close', () => upgraded.delete(socket));
      return api.upgrade(req, socket, head);
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // Written, then closed for good: a half-open socket would let a slow client linger.
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
  });

  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
        for (const socket of sockets) socket.destroy();
      });
      api?.close();
      await requestLogs.close();
    },
    stats: () => ({ fileCache: cache.stats() }),
  };
}

class SizeMismatchError extends Error {
  constructor(key: string, expected: number, actual: number) {
    super(`${key} holds ${actual} bytes but the manifest says ${expected}`);
    this.name = 'SizeMismatchError';
  }
}

/**
 * A project's header rules next to the proxy's own headers, each name sent once. The proxy's
 * headers win, except those in `yielding` (a rule may set Cache-Control on a redirect).
 */
function withRuleHeaders(rules: string[], own: string[], yielding: string[] = []): string[] {
  const ruleNames = new Set<string>();
  for (let i = 0; i < rules.length; i += 2) ruleNames.add(rules[i]!.toLowerCase());
  const ownNames = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < own.length; i += 2) {
    const name = own[i]!.toLowerCase();
    if (yielding.includes(name) && ruleNames.has(name)) continue;
    ownNames.add(name);
    out.push(own[i]!, own[i + 1]!);
  }
  for (let i = 0; i < rules.length; i += 2) if (!ownNames.has(rules[i]!.toLowerCase())) out.push(rules[i]!, rules[i + 1]!);
  return out;
}
