import type { ClickHouse } from './client.ts';

/**
 * Idempotent DDL, applied at start. `log_events` is a ReplacingMergeTree on
 * (deployment_id, seq): a redelivered event collapses into one row at merge time, and reads
 * dedupe with `LIMIT 1 BY` until then. Rows expire `logRetentionDays` after the line was
 * emitted; daily partitions let ClickHouse drop whole expired parts instead of rewriting them.
 */
export async function migrateClickHouse(client: ClickHouse, options: { logRetentionDays?: number } = {}): Promise<void> {
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
