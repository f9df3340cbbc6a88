import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { deploymentPrefix } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import { PAGES } from './pages.ts';
import { resolvePath } from './resolve.ts';
import { RouteCache } from './route-cache.ts';

export interface ProxyDeps {
  store: ObjectStore;
  logger: Logger;
}

export interface ProxyOptions {
  /** How long a route record is trusted before it is read again: the delay of a promote or rollback. */
  routeTtlMs: number;
}

export interface ProxyServer {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

const HOST_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Host header → hostname: lower-cased, port and trailing dot removed; null when not a valid DNS name. */
export function parseHost(header: string | undefined): string | null {
  if (!header || header.length > 260) return null;
  const host = header.toLowerCase().replace(/:\d{1,5}$/, '').replace(/\.$/, '');
  return host.length <= 253 && HOST_PATTERN.test(host) ? host : null;
}

/** The s3-reverse-proxy factory: serves each deployment's files by hostname from the object store. */
export function createProxyServer(deps: ProxyDeps, options: ProxyOptions): ProxyServer {
  const logger = deps.logger.child({ service: 's3-reverse-proxy' });
  const routes = new RouteCache(deps.store, { routeTtlMs: options.routeTtlMs });

  const sendPage = (res: ServerResponse, status: number, html: string, head: boolean) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
    res.end(head ? undefined : html);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      return sendPage(res, 405, PAGES.methodNotAllowed, false);
    }
    const host = parseHost(req.headers.host);
    if (!host) return sendPage(res, 400, PAGES.badRequest, head);
    const route = await routes.route(host);
    if (!route) return sendPage(res, 404, PAGES.unknownHost, head);
    const manifest = await routes.manifest(route.deploymentId);
    if (!manifest) return sendPage(res, 404, PAGES.unknownHost, head);

    const rawPath = (req.url ?? '/').split('?')[0]!;
    const resolution = resolvePath(manifest, rawPath, { spa: route.spa });
    if (resolution.kind === 'bad-path') return sendPage(res, 400, PAGES.badRequest, head);
    if (resolution.kind === 'not-found') return sendPage(res, 404, PAGES.notFound, head);

    const { file, path, status } = resolution;
    const etag = `"${file.hash}"`;
    const headers: Record<string, string | number> = {
      'content-type': file.contentType,
      'cache-control': status === 404 ? 'no-store' : file.cacheControl,
      etag,
    };
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    if (head) {
      res.writeHead(status, { ...headers, 'content-length': file.size });
      return res.end();
    }
    const object = await deps.store.get(deploymentPrefix(route.deploymentId) + path);
    if (!object) {
      logger.error({ deploymentId: route.deploymentId, path }, 'a file in the manifest is missing from storage');
      return sendPage(res, 502, PAGES.badGateway, head);
    }
    res.writeHead(status, { ...headers, 'content-length': object.size });
    await pipeline(object.body, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // client went away
      logger.error({ err, host: req.headers.host, url: req.url }, 'serving a request failed');
      if (!res.headersSent) sendPage(res, 502, PAGES.badGateway, req.method === 'HEAD');
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
