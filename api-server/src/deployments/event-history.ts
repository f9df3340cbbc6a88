import type { ClickHouse } from '@platform/clickhouse';

/** What the build-event stream of a deployment already holds, as written by the consumer. */
export interface EventHistory {
  /** Highest seq recorded, and whether a terminal status event is among the records. */
  summary(deploymentId: string): Promise<{ maxSeq: number; terminal: boolean }>;
}

/** Reads `log_events` in ClickHouse: every event the consumer has written, log lines and status events. */
export function clickHouseEventHistory(client: ClickHouse): EventHistory {
  return {
    async summary(deploymentId) {
      const result = await client.query({
        query: `
          SELECT max(seq) AS max_seq, countIf(type = 'status' AND status IN ('READY', 'ERROR', 'CANCELED')) AS terminal
          FROM log_events WHERE deployment_id = {deploymentId:String}`,
        query_params: { deploymentId },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<{ max_seq: string | number; terminal: string | number }>();
      return { maxSeq: Number(row?.max_seq ?? 0), terminal: Number(row?.terminal ?? 0) > 0 };
    },
  };
}
