import { createLogStore, type ClickHouse, type EventSummary } from '@platform/clickhouse';

/** What the build-event stream of a deployment already holds, as written by the consumer. */
export interface EventHistory {
  /** Highest seq recorded, and whether a terminal status event is among the records. */
  summary(deploymentId: string): Promise<EventSummary>;
}

/** `log_events` in ClickHouse, read by the log store (the SQL lives in packages/clickhouse). */
export function clickHouseEventHistory(client: ClickHouse): EventHistory {
  const store = createLogStore(client);
  return { summary: (deploymentId) => store.eventSummary(deploymentId) };
}
