import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CertificateStore } from '@platform/certificates';
import type { EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import { createApiForwarder } from './api-forward.ts';
import { Connections, refuse } from './connections.ts';
import { CustomDomains } from './custom-domains.ts';
import { FileCache } from './file-cache.ts';
import { FileLoader } from './file-loader.ts';
import { FileResponder } from './file-responder.ts';
import { HostClassifier } from './host.ts';
import { RequestHandler } from './request-handler.ts';
import { RequestLogger } from './request-logs.ts';
import { RouteCache } from './route-cache.ts';
import { TlsContexts } from './tls-contexts.ts';

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
  /** Custom domains (records `domains/<host>.json`) and HTTPS with SNI; unset: plain HTTP by route records only. */
  https?: HttpsOptions;
}

export interface HttpsOptions {
  /** Certificates by hostname (sealed keys), written by the api-server's certificates worker. */
  certificates: CertificateStore;
  /** The public HTTPS port, for HTTP→HTTPS redirects (443 is left out of the Location). */
  publicPort: number;
  /** How often a cached certificate is read again (a renewal is live after at most this). Default 60 s. */
  certificateRefreshMs?: number;
  /** The operator's certificate for `*.<rootDomain>` (and names without their own). */
  defaultCertificate?: { certPem: string; keyPem: string };
}

export interface ProxyServer {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  /** Serves HTTPS (SNI) on this port too; needs `options.https`. */
  listenHttps(port: number, host?: string): Promise<number>;
  /** Stops accepting, closes connections and publishes the remaining request logs. */
  close(): Promise<void>;
  /** Counters for diagnostics and tests. */
  stats(): { fileCache: ReturnType<FileCache['stats']> };
}

/**
 * The s3-reverse-proxy factory: serves each deployment's files by hostname from the object
 * store, and forwards `api.<root>` to the api-server. It only builds the parts and wires them:
 * `RequestHandler` turns a request into an answer, `Exchange` sends and records it,
 * `FileResponder`/`FileLoader` produce file bodies, `Connections` bounds what a client may hold.
 */
export function createProxyServer(deps: ProxyDeps, options: ProxyOptions): ProxyServer {
  const logger = deps.logger.child({ service: 's3-reverse-proxy' });
  const storageTimeoutMs = options.storageTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const hosts = new HostClassifier(options.rootDomain ?? 'localhost');
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
    // With each event's sequence number, unique across processes and restarts.
    instanceId: `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`,
    flushIntervalMs: options.requestLogFlushMs ?? 1_000,
    logger: logger.child({ component: 'request-logs' }),
  });
  // API calls may hold a connection open longer than a static file (long polling), at least 2 minutes.
  const api = options.apiUpstream ? createApiForwarder({ target: options.apiUpstream, idleTimeoutMs: Math.max(requestTimeoutMs, 120_000), logger }) : null;
  const files = new FileResponder(cache, new FileLoader(deps.store, cache, storageTimeoutMs), logger);
  const https = options.https;
  const domains = https ? new CustomDomains(deps.store, { ttlMs: options.routeTtlMs, storageTimeoutMs, httpsPort: https.publicPort }) : null;
  const handler = new RequestHandler({ hosts, routes, files, requestLogs, api, domains, logger });
  const connections = new Connections(handler.handle, requestTimeoutMs);
  const server = connections.server;
  const secure = https
    ? secureConnections(https, handler, { rootDomain: options.rootDomain ?? 'localhost', requestTimeoutMs, storageTimeoutMs, logger })
    : null;
  // Websocket upgrades: only api.<root> takes them (socket.io live logs), and the socket then belongs to the api-server.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!api || hosts.classify(req.headers.host).kind !== 'api') return refuse(socket, '404 Not Found');
    connections.adoptUpgraded(socket);
    api.upgrade(req, socket, head);
  });

  return {
    server,
    listen: (port, host = '127.0.0.1') => listenOn(server, port, host),
    listenHttps: (port, host = '127.0.0.1') => {
      if (!secure) return Promise.reject(new Error('HTTPS needs the https options (certificates)'));
      return listenOn(secure.server, port, host);
    },
    async close() {
      await Promise.all(
        [connections, ...(secure ? [secure] : [])].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (!c.server.listening) return resolve();
              c.server.close(() => resolve());
              c.destroyAll();
            }),
        ),
      );
      api?.close();
      await requestLogs.close();
    },
    stats: () => ({ fileCache: cache.stats() }),
  };
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * The HTTPS side: the same request handler behind TLS, a context per SNI name from the
 * certificate store. Session tickets (Node's default) let clients resume without a full handshake.
 */
function secureConnections(
  https: HttpsOptions,
  handler: RequestHandler,
  settings: { rootDomain: string; requestTimeoutMs: number; storageTimeoutMs: number; logger: Logger },
): Connections {
  const contexts = new TlsContexts(https.certificates, {
    refreshMs: https.certificateRefreshMs ?? 60_000,
    storageTimeoutMs: settings.storageTimeoutMs,
    rootDomain: settings.rootDomain,
    fallback: https.defaultCertificate,
    logger: settings.logger.child({ component: 'tls' }),
  });
  return new Connections(handler.handle, settings.requestTimeoutMs, { SNICallback: contexts.sniCallback, minVersion: 'TLSv1.2' });
}
