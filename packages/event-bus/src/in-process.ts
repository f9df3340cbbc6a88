import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchHandler, BusMessage, EventBus, SubscribeOptions, Subscription } from './event-bus.ts';

interface Group {
  queue: BusMessage[];
  handler: BatchHandler;
  maxBatchSize: number;
  draining: boolean;
  stopped: boolean;
  idle: Promise<void>;
}

/**
 * The embedded driver. Each consumer group keeps its own queue and drains it in order, in
 * batches; a failing handler gets the same batch again after a backoff, so a slow or broken
 * consumer delays messages but never drops them. Messages are not kept after the process ends.
 */
export function createInProcessEventBus(options: { retryBaseMs?: number; retryMaxMs?: number } = {}): EventBus {
  const retryBaseMs = options.retryBaseMs ?? 50;
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  const topics = new Map<string, Map<string, Group>>();
  let closed = false;

  const drain = (group: Group): void => {
    if (group.draining || group.stopped) return;
    group.draining = true;
    group.idle = (async () => {
      let failures = 0;
      while (group.queue.length > 0 && !group.stopped) {
        const batch = group.queue.slice(0, group.maxBatchSize);
        try {
          await group.handler(batch);
          group.queue.splice(0, batch.length);
          failures = 0;
        } catch {
          failures++;
          await sleep(Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(failures, 16)));
        }
      }
      group.draining = false;
    })();
  };

  return {
    async publish(topic, messages) {
      if (closed) throw new Error('event bus is closed');
      const groups = topics.get(topic);
      if (!groups) return;
      for (const group of groups.values()) {
        if (group.stopped) continue;
        group.queue.push(...messages);
        drain(group);
      }
    },

    async subscribe(topic, opts: SubscribeOptions, handler): Promise<Subscription> {
      let groups = topics.get(topic);
      if (!groups) topics.set(topic, (groups = new Map()));
      if (groups.has(opts.groupId)) {
        throw new Error(`group ${opts.groupId} already has a consumer on ${topic} in this process`);
      }
      const group: Group = {
        queue: [],
        handler,
        maxBatchSize: opts.maxBatchSize ?? 1_000,
        draining: false,
        stopped: false,
        idle: Promise.resolve(),
      };
      groups.set(opts.groupId, group);
      return {
        async stop() {
          group.stopped = true;
          groups.delete(opts.groupId);
          await group.idle;
        },
      };
    },

    async close() {
      closed = true;
      const all = [...topics.values()].flatMap((g) => [...g.values()]);
      // Let queued work finish so nothing accepted is dropped at shutdown.
      for (const group of all) while (group.draining || (group.queue.length > 0 && !group.stopped)) await group.idle;
      for (const group of all) group.stopped = true;
      topics.clear();
    },
  };
}
