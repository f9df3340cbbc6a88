import type { ClickHouse } from './client.ts';

/**
 * Idempotent DDL, applied at start. `log_events` is a ReplacingMergeTree on
 * (deployment_id, seq): a redelivered event collapses into one row at merge time, and reads
 * dedupe with `LIMIT 1 BY` until then.
 */
export async function migrateClickHouse(client: ClickHouse, options: { logRetentionDays?: number } = {}): Promise<void> {
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
}
