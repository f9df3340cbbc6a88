import type { AnalyticsBucket, ProjectAnalytics, RequestLogEvent } from '@platform/contracts';
import { ANALYTICS_BUCKET_SECONDS } from '@platform/contracts';
import type { ClickHouse } from './client.ts';
import { clickhouseTime } from './log-store.ts';

export interface AnalyticsQuery {
  projectId: string;
  /** Inclusive, ms since the epoch. */
  from: number;
  /** Exclusive, ms since the epoch. */
  to: number;
  bucket: AnalyticsBucket;
  /** How many of the most requested paths to return. Default 10. */
  topPaths?: number;
}

/** Request logs in ClickHouse `request_logs`: batched inserts from the consumer, per-project analytics for the API. */
export interface RequestLogStore {
  insert(events: readonly RequestLogEvent[]): Promise<void>;
  analytics(query: AnalyticsQuery): Promise<ProjectAnalytics>;
}

interface BucketRow {
  t: string;
  requests: string;
  bytes: string;
  hits: string;
  misses: string;
  s1: string;
  s2: string;
  s3: string;
  s4: string;
  s5: string;
}

// FINAL collapses redelivered copies of an event (same id) that have not been merged yet.
const IN_RANGE = `FROM request_logs FINAL
      WHERE project_id = {projectId:String}
        AND ts >= fromUnixTimestamp64Milli({from:Int64})
        AND ts < fromUnixTimestamp64Milli({to:Int64})`;

export function createRequestLogStore(client: ClickHouse): RequestLogStore {
  return new ClickHouseRequestLogStore(client);
}

class ClickHouseRequestLogStore implements RequestLogStore {
  constructor(private readonly client: ClickHouse) {}

  async insert(events: readonly RequestLogEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.client.insert({
      table: 'request_logs',
      format: 'JSONEachRow',
      values: events.map((e) => ({
        id: e.id,
        ts: clickhouseTime(e.ts),
        project_id: e.projectId,
        deployment_id: e.deploymentId,
        host: e.host,
        method: e.method,
        path: e.path,
        status: e.status,
        bytes: e.bytes,
        duration_ms: e.durationMs,
        cache: e.cache,
      })),
    });
  }

  async analytics(query: AnalyticsQuery): Promise<ProjectAnalytics> {
    const bucketSeconds = ANALYTICS_BUCKET_SECONDS[query.bucket];
    const params = { projectId: query.projectId, from: query.from, to: query.to, bucket: bucketSeconds, limit: query.topPaths ?? 10 };
    const run = async <T>(sql: string): Promise<T[]> => {
      const result = await this.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return result.json<T>();
    };
    // One grouped query gives the series and, summed, every total: they always agree, even
    // while inserts land. Top paths are read after it, so they include at least as much.
    const buckets = await run<BucketRow>(`
          SELECT toUnixTimestamp(toStartOfInterval(ts, INTERVAL {bucket:UInt32} SECOND)) AS t,
            count() AS requests, sum(bytes) AS bytes,
            countIf(cache = 'HIT') AS hits, countIf(cache = 'MISS') AS misses,
            countIf(status < 200) AS s1, countIf(status >= 200 AND status < 300) AS s2,
            countIf(status >= 300 AND status < 400) AS s3, countIf(status >= 400 AND status < 500) AS s4,
            countIf(status >= 500) AS s5
          ${IN_RANGE}
          GROUP BY t ORDER BY t`);
    const paths = await run<PathRow>(`
          SELECT path, count() AS requests, sum(bytes) AS bytes
          ${IN_RANGE}
          GROUP BY path ORDER BY requests DESC, path ASC
          LIMIT {limit:UInt32}`);
    return toAnalytics(query, buckets, paths);
  }
}

interface PathRow {
  path: string;
  requests: string;
  bytes: string;
}

function toAnalytics(query: AnalyticsQuery, buckets: readonly BucketRow[], paths: readonly PathRow[]): ProjectAnalytics {
  const sum = (field: keyof Omit<BucketRow, 't'>) => buckets.reduce((n, row) => n + Number(row[field]), 0);
  const hits = sum('hits');
  const misses = sum('misses');
  return {
    projectId: query.projectId,
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    bucket: query.bucket,
    totals: {
      requests: sum('requests'),
      bytes: sum('bytes'),
      cacheHits: hits,
      cacheMisses: misses,
      cacheHitRatio: hits + misses === 0 ? null : hits / (hits + misses),
    },
    series: filledSeries(query, buckets),
    statusClasses: { '1xx': sum('s1'), '2xx': sum('s2'), '3xx': sum('s3'), '4xx': sum('s4'), '5xx': sum('s5') },
    topPaths: paths.map((p) => ({ path: p.path, requests: Number(p.requests), bytes: Number(p.bytes) })),
  };
}

/** Every bucket of the range, empty ones included, so a chart needs no gap handling. */
function filledSeries(query: AnalyticsQuery, buckets: readonly BucketRow[]): ProjectAnalytics['series'] {
  const bucketMs = ANALYTICS_BUCKET_SECONDS[query.bucket] * 1000;
  const byStart = new Map(buckets.map((row) => [Number(row.t) * 1000, row]));
  const filled: ProjectAnalytics['series'] = [];
  for (let t = Math.floor(query.from / bucketMs) * bucketMs; t < query.to; t += bucketMs) {
    const row = byStart.get(t);
    filled.push({ ts: new Date(t).toISOString(), requests: Number(row?.requests ?? 0), bytes: Number(row?.bytes ?? 0) });
  }
  return filled;
}
