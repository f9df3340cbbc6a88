import { Router } from 'express';
import { ANALYTICS_BUCKET_SECONDS, analyticsBucketSchema, type AnalyticsBucket } from '@platform/contracts';
import type { RequestLogStore } from '@platform/clickhouse';
import { HttpError, notFound } from '../errors.ts';

const DAY_MS = 86_400_000;
/** The widest range one query may cover. */
const MAX_RANGE_MS = 400 * DAY_MS;
/** A chosen bucket may yield at most this many points. */
const MAX_BUCKETS = 2_000;
/** When no bucket is given, the finest one that keeps the series at or under this many points. */
const TARGET_BUCKETS = 300;

export interface AnalyticsRouteDeps {
  projects: { get(id: string): Promise<unknown | null> };
  requestLogs: RequestLogStore;
  now?: () => number;
}

/**
 * `GET /projects/:id/analytics?from=&to=&bucket=&top=`: requests and bandwidth per time bucket,
 * status classes, top paths and the cache hit ratio of one project's deployments.
 * `from`/`to` are ISO 8601 times or ms since the epoch (default: the last 24 hours);
 * `bucket` is one of 1m, 5m, 15m, 1h, 6h, 1d (default: fits the range in about 300 points);
 * `top` is how many paths to list (1-100, default 10).
 */
export function analyticsRoutes(deps: AnalyticsRouteDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;

  router.get('/projects/:id/analytics', async (req, res) => {
    const to = parseTime(req.query.to, 'to') ?? now();
    const from = parseTime(req.query.from, 'from') ?? to - DAY_MS;
    if (from >= to) throw new HttpError(400, 'invalid_query', 'query parameter from must be earlier than to');
    if (to - from > MAX_RANGE_MS) throw new HttpError(400, 'invalid_query', 'the range from..to may cover at most 400 days');
    const bucket = parseBucket(req.query.bucket, to - from);
    const top = parseTop(req.query.top);
    const project = await deps.projects.get(req.params.id);
    if (!project) throw notFound('project');
    res.json({ analytics: await deps.requestLogs.analytics({ projectId: req.params.id, from, to, bucket, topPaths: top }) });
  });

  return router;
}

function parseTime(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    const ms = /^\d{1,15}$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
    if (Number.isFinite(ms)) return ms;
  }
  throw new HttpError(400, 'invalid_query', `query parameter ${name} must be an ISO 8601 time or milliseconds since the epoch`);
}

function parseBucket(value: unknown, rangeMs: number): AnalyticsBucket {
  if (value === undefined) {
    const fits = analyticsBucketSchema.options.find((b) => rangeMs / (ANALYTICS_BUCKET_SECONDS[b] * 1000) <= TARGET_BUCKETS);
    return fits ?? '1d';
  }
  const parsed = analyticsBucketSchema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(400, 'invalid_query', `query parameter bucket must be one of ${analyticsBucketSchema.options.join(', ')}`);
  }
  if (rangeMs / (ANALYTICS_BUCKET_SECONDS[parsed.data] * 1000) > MAX_BUCKETS) {
    throw new HttpError(400, 'invalid_query', `bucket ${parsed.data} gives more than ${MAX_BUCKETS} points over this range; choose a larger bucket`);
  }
  return parsed.data;
}

function parseTop(value: unknown): number {
  if (value === undefined) return 10;
  if (typeof value === 'string' && /^\d{1,3}$/.test(value) && Number(value) >= 1 && Number(value) <= 100) return Number(value);
  throw new HttpError(400, 'invalid_query', 'query parameter top must be an integer from 1 to 100');
}
