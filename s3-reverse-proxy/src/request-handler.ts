import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DomainRecord, RouteRecord } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import type { ApiForwarder } from './api-forward.ts';
import type { CustomDomains } from './custom-domains.ts';
import { Exchange } from './exchange.ts';
import type { FileResponder } from './file-responder.ts';
import type { HostClassifier } from './host.ts';
import { PAGES, storageFailurePage } from './pages.ts';
import type { RequestLogger } from './request-logs.ts';
import type { RouteCache } from './route-cache.ts';
import { withRuleHeaders } from './rule-headers.ts';
import type { Site } from './site.ts';

export interface RequestHandlerParts {
  hosts: HostClassifier;
  routes: RouteCache;
  files: FileResponder;
  requestLogs: RequestLogger;
  /** Null: `api.<root>` is not forwarded and answers like any unknown host. */
  api: ApiForwarder | null;
  /** Null: names outside the root domain are looked up as route records like any other. */
  domains?: CustomDomains | null;
  logger: Logger;
}

/**
 * From a request to the answer it deserves: the Host header picks the api-server or a site,
 * the route record and the compiled deployment turn the path into an answer (a file, a
 * redirect, a 404, a bad path), and the exchange sends it.
 *
 * Hot path, kept free of awaits, parsing and per-request header objects: the Host header and
 * the route record come from memoised lookups, the request path resolves through the
 * deployment's memo to a precomputed answer, and a cached body goes out in one write. The first
 * read of a route or manifest takes `readRoute`, the only await on the way in.
 */
export class RequestHandler {
  private readonly hosts: HostClassifier;
  private readonly routes: RouteCache;
  private readonly files: FileResponder;
  private readonly requestLogs: RequestLogger;
  private readonly api: ApiForwarder | null;
  private readonly domains: CustomDomains | null;
  private readonly logger: Logger;

  constructor(parts: RequestHandlerParts) {
    this.hosts = parts.hosts;
    this.routes = parts.routes;
    this.files = parts.files;
    this.requestLogs = parts.requestLogs;
    this.api = parts.api;
    this.domains = parts.domains ?? null;
    this.logger = parts.logger;
  }

  /** The `request` listener (an arrow: Node calls it detached from this object). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    const host = this.hosts.classify(req.headers.host);
    if (host.kind === 'api' && this.api !== null) return this.api.web(req, res);
    const ex = new Exchange(req, res, this.requestLogs, start);
    if (req.method !== 'GET' && !ex.head) return ex.sendPage(PAGES.methodNotAllowed);
    if (host.kind === 'invalid') return ex.sendPage(PAGES.badRequest);
    if (host.kind !== 'site') return ex.sendPage(PAGES.unknownHost);
    ex.target(host.name);
    if (host.custom === true && this.domains !== null) {
      // A custom domain serves the route of the platform hostname its record names.
      const domain = this.domains.decide(ex);
      if (domain === undefined) {
        this.readDomain(ex, this.domains).catch((err: unknown) => ex.fail(err, this.logger));
        return;
      }
      if (domain !== null) this.serveHost(ex, domain.serves, domain.projectId);
      return;
    }
    this.serveHost(ex, host.name);
  };

  /**
   * Serves what the route record of `routeHost` points at (the request's own host, or a custom
   * domain's target). A custom domain names its project: a route that now belongs to another
   * project (the slug was freed and taken) is not served under it.
   */
  private serveHost(ex: Exchange, routeHost: string, projectId?: string): void {
    const routes = this.routes;
    const route = routes.peekRoute(routeHost, Date.now());
    if (route === null || (route !== undefined && projectId !== undefined && route.projectId !== projectId)) return ex.sendPage(PAGES.unknownHost);
    const site = route === undefined ? undefined : routes.peekSite(route.deploymentId);
    if (route === undefined || site === undefined) {
      this.readRoute(ex, routeHost, projectId).catch((err: unknown) => ex.fail(err, this.logger));
      return;
    }
    ex.route = route;
    this.serve(ex, site);
  }

  /** A custom domain whose record is not in memory yet, or an ACME challenge. */
  private async readDomain(ex: Exchange, domains: CustomDomains): Promise<void> {
    let domain: DomainRecord | null;
    try {
      domain = await domains.decideLater(ex);
    } catch (err) {
      this.logger.error({ err, host: ex.host }, 'reading a domain record failed');
      return ex.sendPage(storageFailurePage(err));
    }
    if (domain !== null) this.serveHost(ex, domain.serves, domain.projectId);
  }

  /** A host whose route record or deployment is not in memory yet (or any more). */
  private async readRoute(ex: Exchange, routeHost: string, projectId?: string): Promise<void> {
    const { routes, logger } = this;
    let route: RouteRecord | null;
    let site: Site | null;
    try {
      route = await routes.route(routeHost);
      site = route ? await routes.site(route.deploymentId) : null;
    } catch (err) {
      logger.error({ err, host: ex.host }, 'reading a route or manifest failed');
      return ex.sendPage(storageFailurePage(err));
    }
    if (!route || (projectId !== undefined && route.projectId !== projectId)) return ex.sendPage(PAGES.unknownHost);
    ex.route = route;
    if (!site) {
      logger.error({ host: ex.host, deploymentId: route.deploymentId }, 'a route points to a deployment without a manifest');
      return ex.sendPage(PAGES.unknownHost);
    }
    this.serve(ex, site);
  }

  private serve(ex: Exchange, site: Site): void {
    // A content-addressed manifest reads its project's namespace only: a manifest naming
    // another project (written around the platform) gets nothing of that project's.
    if (site.projectId !== null && site.projectId !== ex.route!.projectId) {
      this.logger.error({ host: ex.host, deploymentId: site.deploymentId }, 'a manifest names another project than its route; not served');
      return ex.sendPage(PAGES.badGateway);
    }
    const resolved = site.resolve(ex.rawPath, ex.route!.spa, { host: ex.host, query: ex.query, headers: ex.req.headers });
    switch (resolved.kind) {
      case 'file':
        return this.files.serve(ex, resolved);
      case 'redirect': {
        const { location, status, headers } = resolved;
        const target = ex.query === '' ? location : `${location}${location.includes('?') ? '&' : '?'}${ex.query}`;
        return ex.send(
          status,
          withRuleHeaders(headers, ['Location', target, 'Content-Length', '0', 'Cache-Control', 'no-cache'], ['cache-control']),
          undefined,
          'NONE',
        );
      }
      case 'bad-path':
        return ex.sendPage(resolved.status === 414 ? PAGES.uriTooLong : PAGES.badRequest);
      case 'not-found':
        return ex.sendPage(PAGES.notFound, resolved.headers);
    }
  }
}
