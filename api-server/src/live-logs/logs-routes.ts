import { once } from 'node:events';
import { Router, type Request, type Response } from 'express';
import { isTerminalStatus, type LogLine } from '@platform/contracts';
import { MAX_READ_LIMIT, type LogStore } from '@platform/clickhouse';
import { HttpError, notFound } from '../http/errors.ts';
import type { DeploymentsRepo } from '../deployments/deployments-repo.ts';

const DEFAULT_PAGE = 10_000;
const MAX_QUERY_CHARS = 256;
/** Lines read from ClickHouse per query while a download streams. */
const DOWNLOAD_PAGE = 10_000;

interface LogsQuery {
  afterSeq: number;
  /** Undefined: one default page (JSON) or everything (text download). */
  limit: number | undefined;
  contains: string | undefined;
  format: 'json' | 'text';
}

/**
 * `GET /deployments/:id/logs`: a deployment's build log from ClickHouse, in seq order.
 * - `afterSeq` and `limit` page through it; the reply's `nextAfterSeq` is the `afterSeq` of
 *   the next page, or null once a finished build's log has been read to the end;
 * - `q` keeps only the lines containing that text (ignoring case);
 * - `format=text` (or `GET /deployments/:id/logs.txt`) downloads it as plain text, one line
 *   per log line: `<ISO time> <stream> <message>`.
 */
export function logsRoutes(deps: { deployments: Pick<DeploymentsRepo, 'get'>; logStore: LogStore }): Router {
  const router = Router();

  const handle = async (req: Request<{ id: string }>, res: Response, forcedFormat?: 'text') => {
    const query = parseLogsQuery(req.query, forcedFormat);
    const deployment = await deps.deployments.get(req.params.id);
    if (!deployment) throw notFound('deployment');

    if (query.format === 'text') {
      await streamText(res, deps.logStore, deployment.id, query);
      return;
    }
    const limit = query.limit ?? DEFAULT_PAGE;
    const lines = await deps.logStore.read(deployment.id, { afterSeq: query.afterSeq, limit, contains: query.contains });
    const hasMore = lines.length === limit;
    const lastSeq = lines.at(-1)?.seq ?? query.afterSeq;
    // The status was read before the lines, and the writer stores lines before it applies a
    // terminal status: a terminal status here means no line can come after these.
    res.json({
      deploymentId: deployment.id,
      status: deployment.status,
      lines,
      hasMore,
      nextAfterSeq: !hasMore && isTerminalStatus(deployment.status) ? null : lastSeq,
    });
  };

  router.get('/deployments/:id/logs', (req, res) => handle(req, res));
  router.get('/deployments/:id/logs.txt', (req, res) => handle(req, res, 'text'));
  return router;
}

async function streamText(res: Response, logStore: LogStore, deploymentId: string, query: LogsQuery): Promise<void> {
  // The first page is read before any header goes out, so a ClickHouse failure is still a clean 5xx.
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let afterSeq = query.afterSeq;
  const readPage = () =>
    logStore.read(deploymentId, { afterSeq, limit: Math.min(DOWNLOAD_PAGE, remaining), contains: query.contains });
  let page = await readPage();
  res.status(200);
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="${deploymentId}.log"`);
  res.setHeader('cache-control', 'no-store');
  try {
    for (;;) {
      // A client that goes away mid-download never drains: stop on close as well.
      if (page.length > 0 && !res.write(page.map(formatLine).join(''))) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      remaining -= page.length;
      if (page.length < DOWNLOAD_PAGE || remaining <= 0 || res.destroyed) break;
      afterSeq = page.at(-1)!.seq;
      page = await readPage();
    }
    res.end();
  } catch {
    // Headers are out: cut the response short so the client sees an incomplete download.
    res.destroy();
  }
}

function formatLine(line: LogLine): string {
  return `${new Date(line.ts).toISOString()} ${line.stream} ${line.message}\n`;
}

function parseLogsQuery(q: Request['query'], forcedFormat?: 'text'): LogsQuery {
  const afterSeq = parseInteger(q.afterSeq, 'afterSeq', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = parseInteger(q.limit, 'limit', 1, MAX_READ_LIMIT);
  const text = single(q.q, 'q');
  if (text !== undefined && text.length > MAX_QUERY_CHARS) {
    throw new HttpError(400, 'invalid_query', `query parameter q must be at most ${MAX_QUERY_CHARS} characters`);
  }
  const format = forcedFormat ?? single(q.format, 'format') ?? 'json';
  if (format !== 'json' && format !== 'text') {
    throw new HttpError(400, 'invalid_query', 'query parameter format must be "json" or "text"');
  }
  return { afterSeq, limit, contains: text || undefined, format };
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'invalid_query', `query parameter ${name} must be given once, as text`);
  return value;
}

function parseInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  const text = single(value, name);
  if (text === undefined) return undefined;
  const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, 'invalid_query', `query parameter ${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}
