import { Router } from 'express';
import { analyticsBucketSchema, type AnalyticsBucket } from '@platform/contracts';
import { HttpError } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { AnalyticsService } from './analytics-service.ts';

/**
 * `GET /projects/:id/analytics?from=&to=&bucket=&top=`: requests and bandwidth per time bucket,
 * status classes, top paths and the cache hit ratio of one project's deployments.
 * `from`/`to` are ISO 8601 times or ms since the epoch (default: the last 24 hours);
 * `bucket` is one of 1m, 5m, 15m, 1h, 6h, 1d (default: fits the range in about 300 points);
 * `top` is how many paths to list (1-100, default 10). Behind the project-owner guard.
 */
export function analyticsRoutes(deps: { analytics: AnalyticsService }): Router {
  const router = Router();

  router.get('/projects/:projectId/analytics', async (req, res) => {
    const to = parseTime(req.query.to, 'to');
    const from = parseTime(req.query.from, 'from');
    const bucket = parseBucket(req.query.bucket);
    const topPaths = parseTop(req.query.top);
    const analytics = await deps.analytics.query(ownedProject(res).id, { from, to, bucket, topPaths });
    res.json({ analytics });
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

function parseBucket(value: unknown): AnalyticsBucket | undefined {
  if (value === undefined) return undefined;
  const parsed = analyticsBucketSchema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(400, 'invalid_query', `query parameter bucket must be one of ${analyticsBucketSchema.options.join(', ')}`);
  }
  return parsed.data;
}

function parseTop(value: unknown): number {
  if (value === undefined) return 10;
  if (typeof value === 'string' && /^\d{1,3}$/.test(value) && Number(value) >= 1 && Number(value) <= 100) return Number(value);
  throw new HttpError(400, 'invalid_query', 'query parameter top must be an integer from 1 to 100');
}
