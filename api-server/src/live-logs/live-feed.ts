import {
  BUILD_EVENTS_TOPIC,
  WRITER_APPLIED_TOPIC,
  isTerminalStatus,
  parseJsonWith,
  randomId,
  writerAppliedSchema,
  type BuildEvent,
  type WriterApplied,
} from '@platform/contracts';
import type { EventBus, Subscription } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import { parseBuildEvents, type EventGuard } from '../deployments/event-guard.ts';

/** A group of its own per replica, so every replica sees every event for its own sockets. */
export const liveGroupId = (): string => `api-live-${randomId(12)}`;

/**
 * Live delivery for this replica's sockets: a consumer group of its own (so it sees every
 * event, whichever replica writes it), starting at the newest events. It writes nothing; a
 * live event may therefore arrive before its row is in ClickHouse, which the streams handle
 * by ordering on seq and filling holes from ClickHouse.
 */
export async function startLiveFeed(deps: {
  bus: EventBus;
  logger: Logger;
  groupId: string;
  onEvents: (events: BuildEvent[]) => void | Promise<void>;
  guard?: EventGuard;
}): Promise<Subscription> {
  const log = deps.logger.child({ component: 'live-feed' });
  return deps.bus.subscribe(BUILD_EVENTS_TOPIC, { groupId: deps.groupId, fromBeginning: false, maxBatchSize: 5_000 }, async (messages) => {
    await deps.onEvents(parseBuildEvents(messages, log, deps.guard));
  });
}

/**
 * The writers' applied events, for this replica's gate. Its own group (every replica hears
 * every writer) from the newest: a status applied before this replica started is found on
 * the deployment row instead.
 */
export async function startAppliedFeed(deps: {
  bus: EventBus;
  logger: Logger;
  groupId: string;
  onApplied: (applied: WriterApplied) => void;
}): Promise<Subscription> {
  const log = deps.logger.child({ component: 'applied-feed' });
  return deps.bus.subscribe(WRITER_APPLIED_TOPIC, { groupId: deps.groupId, fromBeginning: false, maxBatchSize: 5_000 }, async (messages) => {
    for (const message of messages) {
      const applied = parseJsonWith(writerAppliedSchema, message.value);
      if (applied) deps.onApplied(applied);
      else log.warn({ key: message.key }, 'dropping a malformed applied event');
    }
  });
}

/**
 * What the writer announces after a batch: per deployment whose batch carried a status
 * event, the highest seq of the batch. Log lines alone announce nothing: no one waits on them,
 * and an event per log batch would double the bus traffic of a chatty build.
 */
export function appliedMarks(events: readonly BuildEvent[]): WriterApplied[] {
  const upTo = new Map<string, number>();
  const withStatus = new Set<string>();
  for (const event of events) {
    upTo.set(event.deploymentId, Math.max(upTo.get(event.deploymentId) ?? 0, event.seq));
    if (event.type === 'status') withStatus.add(event.deploymentId);
  }
  return [...withStatus].map((deploymentId) => ({ deploymentId, upToSeq: upTo.get(deploymentId)! }));
}

/**
 * The writer's hook: publishes the applied marks of a batch it has committed. A failed
 * publish is logged, not thrown: the batch is applied and must be acknowledged, and a gate
 * that misses the event finds the status on the row at its next recheck.
 */
export function appliedAnnouncer(bus: EventBus, logger: Logger): (events: readonly BuildEvent[]) => Promise<void> {
  const log = logger.child({ component: 'applied-announcer' });
  return async (events) => {
    const marks = appliedMarks(events);
    if (marks.length === 0) return;
    try {
      await bus.publish(
        WRITER_APPLIED_TOPIC,
        marks.map((m) => ({ key: m.deploymentId, value: JSON.stringify(m) })),
      );
    } catch (err) {
      const terminal = events.some((e) => e.type === 'status' && isTerminalStatus(e.status));
      log.warn({ err, deployments: marks.length, terminal }, 'publishing applied events failed; live feeds fall back to the row');
    }
  };
}
