import type { BuildEvent, LogLine } from '@platform/contracts';
import type { ClickHouse } from './client.ts';

export interface ReadLogsOptions {
  /** Only lines with a greater seq (resume point). */
  afterSeq?: number;
  limit?: number;
}

/** Build logs in ClickHouse `log_events`. */
export interface LogStore {
  insert(events: readonly BuildEvent[]): Promise<void>;
  /** Log lines (not status events) of one deployment, ordered by seq, without duplicates. */
  read(deploymentId: string, options?: ReadLogsOptions): Promise<LogLine[]>;
}

interface LogRow {
  seq: string;
  ts: string;
  stream: LogLine['stream'];
  message: string;
}

export function createLogStore(client: ClickHouse): LogStore {
  return {
    async insert(events) {
      if (events.length === 0) return;
      await client.insert({
        table: 'log_events',
        format: 'JSONEachRow',
        values: events.map((e) => ({
          deployment_id: e.deploymentId,
          project_id: e.projectId,
          seq: e.seq,
          ts: clickhouseTime(e.ts),
          type: e.type,
          stream: e.type === 'log' ? e.stream : 'system',
          status: e.type === 'status' ? e.status : '',
          message: e.type === 'log' ? e.message : (e.detail ?? ''),
        })),
      });
    },

    async read(deploymentId, options = {}) {
      const result = await client.query({
        query: `
          SELECT seq, toUnixTimestamp64Milli(ts) AS ts, stream, message
          FROM log_events
          WHERE deployment_id = {deploymentId:String} AND type = 'log' AND seq > {afterSeq:UInt64}
          ORDER BY seq
          LIMIT 1 BY seq
          LIMIT {limit:UInt32}`,
        query_params: { deploymentId, afterSeq: options.afterSeq ?? 0, limit: options.limit ?? 100_000 },
        format: 'JSONEachRow',
      });
      const rows = await result.json<LogRow>();
      return rows.map((r) => ({ seq: Number(r.seq), ts: Number(r.ts), stream: r.stream, message: r.message }));
    },
  };
}

/** `2026-11-27 10:00:00.123` (UTC): the text form every ClickHouse version parses for DateTime64(3, 'UTC'). */
export function clickhouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
