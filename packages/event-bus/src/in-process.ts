import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchHandler, BusMessage, EventBus, SubscribeOptions, Subscription } from './event-bus.ts';

interface Member {
  handler: BatchHandler;
  /** Resolves when the batch this member is handling (if any) is done. */
  busy: Promise<void>;
}

interface Group {
  queue: BusMessage[];
  members: Member[];
  /** Round-robin position: which member handles the next batch. */
  turn: number;
  maxBatchSize: number;
  draining: boolean;
  idle: Promise<void>;
}

/** Hands a group's queue to its members in turn, one batch at a time; a failed batch is retried after a backoff. */
function drainGroup(group: Group, retryBaseMs: number, retryMaxMs: number): void {
  if (group.draining || group.members.length === 0) return;
  group.draining = true;
  group.idle = (async () => {
    let failures = 0;
    while (group.queue.length > 0 && group.members.length > 0) {
      const member = group.members[group.turn++ % group.members.length]!;
      const batch = group.queue.slice(0, group.maxBatchSize);
      const attempt = member.handler(batch);
      member.busy = attempt.then(
        () => {},
        () => {},
      );
      try {
        await attempt;
        group.queue.splice(0, batch.length);
        failures = 0;
      } catch {
        failures++;
        await sleep(Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(failures, 16)));
      }
    }
    group.draining = false;
  })();
}

/**
 * The embedded driver. Each consumer group keeps its own queue and drains it in order, one
 * batch at a time, handing batches to its members in turn (several api-server replicas in
 * one process share a group the way Kafka consumers do). A failing handler gets the same
 * batch again after a backoff, so a slow or broken consumer delays messages but never drops
 * them. Messages are not kept after the process ends.
 */
export function createInProcessEventBus(options: { retryBaseMs?: number; retryMaxMs?: number } = {}): EventBus {
  const retryBaseMs = options.retryBaseMs ?? 50;
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  const topics = new Map<string, Map<string, Group>>();
  let closed = false;

  const drain = (group: Group): void => drainGroup(group, retryBaseMs, retryMaxMs);

  return {
    async publish(topic, messages) {
      if (closed) throw new Error('event bus is closed');
      const groups = topics.get(topic);
      if (!groups) return;
      for (const group of groups.values()) {
        group.queue.push(...messages);
        drain(group);
      }
    },

    async subscribe(topic, opts: SubscribeOptions, handler): Promise<Subscription> {
      let groups = topics.get(topic);
      if (!groups) {
        groups = new Map();
        topics.set(topic, groups);
      }
      let group = groups.get(opts.groupId);
      if (!group) {
        group = { queue: [], members: [], turn: 0, maxBatchSize: opts.maxBatchSize ?? 1_000, draining: false, idle: Promise.resolve() };
        groups.set(opts.groupId, group);
      }
      const member: Member = { handler, busy: Promise.resolve() };
      group.members.push(member);
      drain(group);
      const joined = group;
      return {
        async stop() {
          const index = joined.members.indexOf(member);
          if (index === -1) return;
          joined.members.splice(index, 1);
          // The last member leaving ends the group (as in-process state, its queue goes too).
          if (joined.members.length === 0 && groups.get(opts.groupId) === joined) groups.delete(opts.groupId);
          await member.busy;
        },
      };
    },

    async close() {
      closed = true;
      const all = [...topics.values()].flatMap((g) => [...g.values()]);
      // Let queued work finish so nothing accepted is dropped at shutdown.
      for (const group of all) while (group.draining || (group.queue.length > 0 && group.members.length > 0)) await group.idle;
      for (const group of all) group.members.length = 0;
      topics.clear();
    },
  };
}
