import { once } from 'node:events';
import { Router, type Request, type Response } from 'express';
import { isTerminalStatus, logsQuerySchema, type LogLine, type LogsPage } from '@platform/contracts';
import type { LogStore } from '@platform/clickhouse';
import { notFound, parseQuery } from '../http/errors.ts';
import type { DeploymentsRepo } from '../deployments/deployments-repo.ts';

const DEFAULT_PAGE = 10_000;
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
    const page: LogsPage = {
      deploymentId: deployment.id,
      status: deployment.status,
      lines,
      hasMore,
      nextAfterSeq: !hasMore && isTerminalStatus(deployment.status) ? null : lastSeq,
    };
    res.json(page);
  };

  router.get('/deployments/:id/logs', (req, res) => handle(req, res));
  router.get('/deployments/:id/logs.txt', (req, res) => handle(req, res, 'text'));
  return router;
}

async function streamText(res: Response, logStore: LogStore, deploymentId: string, query: LogsQuery): Promise<void> {
  // The first page is read before any header goes out, so a ClickHouse failure is still a clean 5xx.
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let afterSeq = query.afterSeq;
  const readPage = () => logStore.read(deploymentId, { afterSeq, limit: Math.min(DOWNLOAD_PAGE, remaining), contains: query.contains });
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
  const query = parseQuery(logsQuerySchema, q);
  return { afterSeq: query.afterSeq, limit: query.limit, contains: query.q || undefined, format: forcedFormat ?? query.format ?? 'json' };
}
