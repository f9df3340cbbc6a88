import { z } from 'zod';

// The topic, REQUEST_LOGS_TOPIC ('request-logs'), is declared beside BUILD_EVENTS_TOPIC in build-events.ts.

/** Whether a response body came from the proxy's memory (`HIT`), the object store (`MISS`), or neither (`NONE`: redirects, errors, 304). */
export const cacheStatusSchema = z.enum(['HIT', 'MISS', 'NONE']);
export type CacheStatus = z.infer<typeof cacheStatusSchema>;

/**
 * One request served by the s3-reverse-proxy for a known project, as sent on the
 * `request-logs` topic (one message per request, keyed by project id) and stored in
 * ClickHouse `request_logs`. Delivery is at-least-once: `id` is unique per request and is
 * what a redelivered copy collapses on.
 */
export const requestLogEventSchema = z.object({
  /** `<proxy instance>-<sequence>`: unique per request. */
  id: z.string().min(1).max(128),
  /** When the request arrived, ms since the epoch. */
  ts: z.number().int().nonnegative(),
  host: z.string().max(260),
  projectId: z.string().min(1).max(128),
  deploymentId: z.string().min(1).max(128),
  method: z.string().max(16),
  /** The request path without its query string, as received (truncated to 1024 characters). */
  path: z.string().max(1024),
  status: z.number().int().min(100).max(599),
  /** Body bytes sent (0 for HEAD and 304). */
  bytes: z.number().int().nonnegative(),
  /** Time from the request's arrival to the response's last byte handed to the socket. */
  durationMs: z.number().nonnegative(),
  cache: cacheStatusSchema,
});
export type RequestLogEvent = z.infer<typeof requestLogEventSchema>;

/** Query of `GET /projects/:id/analytics`. Times are ISO 8601 or ms since the epoch. */
export const analyticsBucketSchema = z.enum(['1m', '5m', '15m', '1h', '6h', '1d']);
export type AnalyticsBucket = z.infer<typeof analyticsBucketSchema>;
export const ANALYTICS_BUCKET_SECONDS: Record<AnalyticsBucket, number> = {
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '1h': 3_600,
  '6h': 21_600,
  '1d': 86_400,
};

/** Per-project analytics over a time range, as the API returns them. */
export interface ProjectAnalytics {
  projectId: string;
  from: string;
  to: string;
  bucket: AnalyticsBucket;
  totals: { requests: number; bytes: number; cacheHits: number; cacheMisses: number; cacheHitRatio: number | null };
  /** One entry per bucket from `from` to `to`, empty buckets included. */
  series: { ts: string; requests: number; bytes: number }[];
  statusClasses: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  topPaths: { path: string; requests: number; bytes: number }[];
}
