import type { ClickHouse } from './client.ts';

/**
 * Idempotent DDL, applied at start. `log_events` is a ReplacingMergeTree on
 * (deployment_id, seq): a redelivered event collapses into one row at merge time, and reads
 * dedupe with `LIMIT 1 BY` until then. Rows expire `logRetentionDays` after the line was
 * emitted; daily partitions let ClickHouse drop whole expired parts instead of rewriting them.
 */
export async function migrateClickHouse(client: ClickHouse, options: { logRetentionDays?: number; requestLogRetentionDays?: number } = {}): Promise<void> {
  const retentionDays = Math.max(1, Math.floor(options.logRetentionDays ?? 30));
  const ttl = `toDateTime(ts) + toIntervalDay(${retentionDays})`;
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
      PARTITION BY toDate(ts)
      ORDER BY (deployment_id, seq)
      TTL ${ttl}
      SETTINGS ttl_only_drop_parts = 1`,
  });
  // A changed retention rewrites the table's TTL; an unchanged one costs nothing at start
  // (MODIFY TTL on every start would recompute TTL info for every part).
  if ((await currentLogTtlDays(client)) !== retentionDays) {
    await client.command({ query: `ALTER TABLE log_events MODIFY TTL ${ttl}` });
  }
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

/** The retention in days that `log_events` currently applies, or null when it has none. */
export async function currentLogTtlDays(client: ClickHouse): Promise<number | null> {
  const result = await client.query({
    query: `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'log_events'`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ engine_full: string }>();
  const match = /TTL\s+toDateTime\(ts\)\s*\+\s*(?:toIntervalDay\((\d+)\)|INTERVAL\s+(\d+)\s+DAY)/i.exec(rows[0]?.engine_full ?? '');
  if (!match) return null;
  return Number(match[1] ?? match[2]);
}
