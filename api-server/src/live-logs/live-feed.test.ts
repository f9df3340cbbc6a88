import { describe, expect, it } from 'vitest';
import { WRITER_APPLIED_TOPIC, type BuildEvent, type WriterApplied } from '@platform/contracts';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { appliedAnnouncer, startAppliedFeed } from './live-feed.ts';

const logger = createLogger({ level: 'silent' });
const ready: BuildEvent = { type: 'status', deploymentId: 'd1', projectId: 'p', seq: 4, ts: 0, status: 'READY' };

describe('the writer’s applied announcements', () => {
  it('reach every replica’s applied feed, and a malformed one is dropped', async () => {
    const bus = createInProcessEventBus();
    const heard: WriterApplied[][] = [[], []];
    const feeds = await Promise.all(heard.map((into, i) => startAppliedFeed({ bus, logger, groupId: `replica-${i}`, onApplied: (a) => void into.push(a) })));
    await bus.publish(WRITER_APPLIED_TOPIC, [{ key: 'x', value: '{"deploymentId":"x"}' }]);
    await appliedAnnouncer(bus, logger)([ready]);
    for (let until = Date.now() + 5_000; heard.some((h) => h.length === 0) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
    expect(heard).toEqual([[{ deploymentId: 'd1', upToSeq: 4 }], [{ deploymentId: 'd1', upToSeq: 4 }]]);
    for (const feed of feeds) await feed.stop();
    await bus.close();
  });

  it('never fails the writer’s batch: a publish that fails is logged and left to the gate’s recheck', async () => {
    const down: EventBus = {
      publish: async () => Promise.reject(new Error('injected fault: bus down')),
      subscribe: async () => ({ stop: async () => {} }),
      close: async () => {},
    };
    await expect(appliedAnnouncer(down, logger)([ready])).resolves.toBeUndefined();
  });
});
