import { BUILD_EVENTS_TOPIC, buildEventSchema, isTerminalStatus, type BuildEvent } from '@platform/contracts';
import type { EventBus, Subscription } from '@platform/event-bus';
import type { LogStore } from '@platform/clickhouse';
import type { Logger } from '@platform/logger';
import type { ProjectsRepo } from '../projects/projects-repo.ts';
import type { DeploymentsRepo } from './deployments-repo.ts';
import type { RoutePublisher } from './route-publisher.ts';

/** Every api-server replica shares this group: each event is written to ClickHouse and the DB once. */
export const BUILD_EVENTS_WRITER_GROUP = 'api-build-events-writer';

/**
 * Turns build events into state: log lines into ClickHouse, status events into the
 * deployment row (and route records on READY), then hands the batch to live delivery.
 * A batch is acknowledged only when all of that succeeded; on failure the bus redelivers
 * it, and both writes are idempotent on (deploymentId, seq).
 */
export async function startBuildEventsConsumer(deps: {
  bus: EventBus;
  logStore: LogStore;
  deployments: DeploymentsRepo;
  projects: ProjectsRepo;
  routes: RoutePublisher;
  logger: Logger;
  onEvents: (events: BuildEvent[]) => void;
  onTerminal: () => void;
}): Promise<Subscription> {
  const log = deps.logger.child({ component: 'build-events-consumer' });
  return deps.bus.subscribe(BUILD_EVENTS_TOPIC, { groupId: BUILD_EVENTS_WRITER_GROUP, fromBeginning: true, maxBatchSize: 5_000 }, async (messages) => {
    const events: BuildEvent[] = [];
    for (const message of messages) {
      let json: unknown;
      try {
        json = JSON.parse(message.value);
      } catch {
        json = undefined;
      }
      const parsed = buildEventSchema.safeParse(json);
      if (parsed.success) events.push(parsed.data);
      else log.warn({ key: message.key }, 'dropping a malformed build event');
    }
    await deps.logStore.insert(events);
    let finished = false;
    for (const event of events) {
      if (event.type !== 'status') continue;
      if (event.status === 'READY') {
        // Routes first, status second: whoever sees READY can already open the URL.
        const current = await deps.deployments.get(event.deploymentId);
        if (!current || isTerminalStatus(current.status) || current.last_event_seq >= event.seq) continue;
        const project = await deps.projects.get(current.project_id);
        if (project) await deps.routes.publishReady(current, project);
      }
      const row = await deps.deployments.applyStatusEvent(event);
      if (row && isTerminalStatus(row.status)) finished = true;
    }
    deps.onEvents(events);
    if (finished) deps.onTerminal();
  });
}
