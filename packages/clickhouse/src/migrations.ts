import type { ClickHouse } from './client.ts';

/**
 * Idempotent DDL, applied at start. `log_events` is a ReplacingMergeTree on
 * (deployment_id, seq): a redelivered event collapses into one row at merge time, and reads
 * dedupe with `LIMIT 1 BY` until then.
 */
export async function migrateClickHouse(
  client: ClickHouse,
  options: { logRetentionDays?: number; requestLogRetentionDays?: number } = {},
): Promise<void> {
  const retentionDays = Math.max(1, Math.floor(options.logRetentionDays ?? 30));
  await client.command({
    query: `
      CREATE TABLE IF NOT EXISTS log_events (
        deployment_id String,
        project_id String,
        seq UInt64,
        ts DateTime64(3, 'UTC'),
        type LowCardinality(String),
        stream LowCardinality(String),
        status LowCardinality(String),
        message String
      )
      ENGINE = ReplacingMergeTree
      ORDER BY (deployment_id, seq)
      TTL toDateTime(ts) + INTERVAL ${retentionDays} DAY`,
  });
  await client.command({ query: `ALTER TABLE log_events MODIFY TTL toDateTime(ts) + INTERVAL ${retentionDays} DAY` });
  await migrateRequestLogs(client, options.requestLogRetentionDays ?? 90);
}

/**
 * `request_logs`: one row per request served by the proxy. A ReplacingMergeTree on
 * (project_id, ts, id): a redelivered event collapses into one row, and analytics read with
 * FINAL until the merge. Partitioned by month so retention drops whole parts.
 */
async function migrateRequestLogs(client: ClickHouse, retentionDays: number): Promise<void> {
  const days = Math.max(1, Math.floor(retentionDays));
  await client.command({
    query: `
      CREATE TABLE IF NOT EXISTS request_logs (
        id String,
        ts DateTime64(3, 'UTC'),
        project_id String,
        deployment_id String,
        host String,
        method LowCardinality(String),
        path String,
        status UInt16,
        bytes UInt64,
        duration_ms Float32,
        cache LowCardinality(String)
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(ts)
      ORDER BY (project_id, ts, id)
      TTL toDateTime(ts) + INTERVAL ${days} DAY`,
  });
  await client.command({ query: `ALTER TABLE request_logs MODIFY TTL toDateTime(ts) + INTERVAL ${days} DAY` });
}
