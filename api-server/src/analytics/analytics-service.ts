import { ANALYTICS_BUCKET_SECONDS, analyticsBucketSchema, type AnalyticsBucket } from '@platform/contracts';
import type { RequestLogStore } from '@platform/clickhouse';
import { InvalidAnalyticsQuery } from './errors.ts';

const DAY_MS = 86_400_000;
/** The widest range one query may cover. */
const MAX_RANGE_MS = 400 * DAY_MS;
/** A chosen bucket may yield at most this many points. */
const MAX_BUCKETS = 2_000;
/** When no bucket is given, the finest one that keeps the series at or under this many points. */
const TARGET_BUCKETS = 300;

/** What a caller asks for; every part is optional. */
export interface AnalyticsRequest {
  from?: number;
  to?: number;
  bucket?: AnalyticsBucket;
  topPaths: number;
}

/**
 * A project's request analytics from ClickHouse `request_logs` (its SQL lives in
 * `@platform/clickhouse`): the range defaults to the last 24 hours, and the bucket to one
 * that fits the range in about 300 points.
 */
export class AnalyticsService {
  constructor(private readonly deps: { requestLogs: Pick<RequestLogStore, 'analytics'>; now?: () => number }) {}

  async query(projectId: string, request: AnalyticsRequest) {
    const to = request.to ?? (this.deps.now ?? Date.now)();
    const from = request.from ?? to - DAY_MS;
    if (from >= to) throw new InvalidAnalyticsQuery('query parameter from must be earlier than to');
    if (to - from > MAX_RANGE_MS) throw new InvalidAnalyticsQuery('the range from..to may cover at most 400 days');
    const bucket = chooseBucket(request.bucket, to - from);
    return this.deps.requestLogs.analytics({ projectId, from, to, bucket, topPaths: request.topPaths });
  }
}

function chooseBucket(asked: AnalyticsBucket | undefined, rangeMs: number): AnalyticsBucket {
  const points = (b: AnalyticsBucket) => rangeMs / (ANALYTICS_BUCKET_SECONDS[b] * 1000);
  if (asked === undefined) return analyticsBucketSchema.options.find((b) => points(b) <= TARGET_BUCKETS) ?? '1d';
  if (points(asked) > MAX_BUCKETS) {
    throw new InvalidAnalyticsQuery(`bucket ${asked} gives more than ${MAX_BUCKETS} points over this range; choose a larger bucket`);
  }
  return asked;
}
