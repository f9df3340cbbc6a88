import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CacheStatus, RouteRecord } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import { PAGES, type Page } from './pages.ts';
import type { RequestLogger } from './request-logs.ts';
import { withRuleHeaders } from './rule-headers.ts';

/**
 * One request to a site, from the moment it arrives to the moment its answer is written: what
 * was asked (host, path, query, HEAD or not), what it resolved to (the route record), and when
 * it started. Every answer goes out through `send` or `stream`, and both record the request log
 * in `record`, so what the client got and what the logs say cannot drift apart.
 *
 * A request is recorded once its route is known: the logs belong to a project, and requests
 * for no project (bad or unknown hosts, 405s) have nobody to show them to. Fields are all set
 * in the constructor so every exchange has one shape (the hot path stays monomorphic).
 */
export class Exchange {
  // `declare`d and set in the constructor: class-field syntax would define each field first
  // and assign it again, one more store per field on every request.
  declare readonly req: IncomingMessage;
  declare readonly res: ServerResponse;
  declare readonly head: boolean;
  /** The validated hostname; empty until the Host header classified as a site. */
  declare host: string;
  /** Set once the route record is known; from then on the answer is recorded. */
  declare route: RouteRecord | null;
  /** The request target split at `?`: the path resolves and is logged, the query only rides along on redirects. */
  declare rawPath: string;
  declare query: string;
  declare private readonly logs: RequestLogger;
  /** `performance.now()` when the request arrived: the request log's duration. */
  declare private readonly start: number;

  constructor(req: IncomingMessage, res: ServerResponse, logs: RequestLogger, start: number) {
    this.req = req;
    this.res = res;
    this.head = req.method === 'HEAD';
    this.host = '';
    this.route = null;
    this.rawPath = '/';
    this.query = '';
    this.logs = logs;
    this.start = start;
  }

  /** Splits the request target; kept out of the constructor because only site requests need it. */
  target(host: string): void {
    this.host = host;
    const url = this.req.url ?? '/';
    const q = url.indexOf('?');
    if (q === -1) {
      this.rawPath = url;
    } else {
      this.rawPath = url.slice(0, q);
      this.query = url.slice(q + 1);
    }
  }

  /** The answer in one write: status, a precomputed header array, an optional body. */
  send(status: number, headers: string[], body: Buffer | undefined, cache: CacheStatus): void {
    this.write(status, headers, body);
    this.record(status, body === undefined ? 0 : body.length, cache);
  }

  /** One of the proxy's own pages, after the project's header rules if any; no body for HEAD. */
  sendPage(page: Page, ruleHeaders?: string[]): void {
    const headers = ruleHeaders !== undefined && ruleHeaders.length > 0 ? withRuleHeaders(ruleHeaders, page.headers) : page.headers;
    this.send(page.status, headers, this.head ? undefined : page.body, 'NONE');
  }

  /** A body streamed from storage; recorded once it is all written (`bytes` is what the headers promised). */
  async stream(status: number, headers: string[], body: Readable, bytes: number, cache: CacheStatus): Promise<void> {
    this.res.writeHead(status, headers);
    await pipeline(body, this.res);
    this.record(status, bytes, cache);
  }

  /**
   * An unexpected failure while answering. It is not recorded (as before this object existed):
   * the request log counts answers the proxy chose, and a client that hung up mid-stream got none.
   */
  fail(err: unknown, logger: Logger): void {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client went away
    logger.error({ err, host: this.req.headers.host, url: this.req.url }, 'serving a request failed');
    if (!this.res.headersSent) this.write(PAGES.badGateway.status, PAGES.badGateway.headers, this.head ? undefined : PAGES.badGateway.body);
    else this.res.destroy();
  }

  /** The only place a buffered answer is written. */
  private write(status: number, headers: string[], body: Buffer | undefined): void {
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  /** The only place a request log is recorded. */
  private record(status: number, bytes: number, cache: CacheStatus): void {
    const route = this.route;
    if (route === null) return;
    const durationMs = performance.now() - this.start;
    this.logs.record(Date.now(), this.host, route.projectId, route.deploymentId, this.req.method ?? 'GET', this.rawPath, status, bytes, durationMs, cache);
  }
}
