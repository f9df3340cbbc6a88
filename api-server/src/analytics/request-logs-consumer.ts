import { parseJsonWith, REQUEST_LOGS_TOPIC, requestLogEventSchema, type RequestLogEvent } from '@platform/contracts';
import type { RequestLogStore } from '@platform/clickhouse';
import type { EventBus, Subscription } from '@platform/event-bus';
import type { Logger } from '@platform/logger';

/** Every api-server replica shares this group: each request log is written to ClickHouse once. */
export const REQUEST_LOGS_WRITER_GROUP = 'api-request-logs-writer';

/**
 * Proxy request logs → ClickHouse `request_logs`, one insert per batch. A batch is
 * acknowledged only after the insert succeeded; on failure the bus redelivers it, and the
 * table collapses redelivered rows on the event id. Malformed messages are counted and skipped.
 */
export function startRequestLogsConsumer(deps: { bus: EventBus; store: RequestLogStore; logger: Logger; maxBatchSize?: number }): Promise<Subscription> {
  const log = deps.logger.child({ component: 'request-logs-consumer' });
  return deps.bus.subscribe(
    REQUEST_LOGS_TOPIC,
    { groupId: REQUEST_LOGS_WRITER_GROUP, fromBeginning: true, maxBatchSize: deps.maxBatchSize ?? 10_000 },
    async (messages) => {
      const events: RequestLogEvent[] = [];
      let malformed = 0;
      for (const message of messages) {
        const event = parseJsonWith(requestLogEventSchema, message.value);
        if (event) events.push(event);
        else malformed++;
      }
      if (malformed > 0) log.warn({ malformed }, 'skipping malformed request log events');
      await deps.store.insert(events);
    },
  );
}
