import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage, EventBus, Subscription } from './event-bus.ts';

export interface EventBusUnderTest {
  bus: EventBus;
  cleanup?: () => Promise<void>;
}

export interface EventBusCapabilities {
  /** Messages outlive their delivery (Kafka): `fromBeginning` and resuming a group are meaningful. */
  retainsMessages: boolean;
  /** Several subscriptions may join one group and share its messages. */
  sharedGroups: boolean;
  /** How long a test waits for deliveries. */
  deliveryTimeoutMs?: number;
}

/** A test of a capability only some drivers have: not registered at all for the others. */
const whenDriver = (has: boolean) => (has ? it : (_name: string, _fn: () => Promise<void>) => undefined);

const fresh = (what: string) => `contract-${what}-${randomBytes(5).toString('hex')}`;

/** Waits until `done()` holds, failing with `describe()` after the timeout. */
async function eventually(done: () => boolean, timeoutMs: number, describeState: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms: ${describeState()}`);
    await sleep(25);
  }
}

const messagesFor = (keys: string[], perKey: number): BusMessage[] => {
  const out: BusMessage[] = [];
  for (let i = 1; i <= perKey; i++) for (const key of keys) out.push({ key, value: JSON.stringify({ key, n: i }) });
  return out;
};
const nOf = (m: BusMessage) => (JSON.parse(m.value) as { n: number }).n;

/** Per key, the values of the first delivery of each message, in delivery order. */
function firstDeliveriesByKey(delivered: BusMessage[]): Map<string, number[]> {
  const seen = new Set<string>();
  const byKey = new Map<string, number[]>();
  for (const m of delivered) {
    if (seen.has(m.value)) continue;
    seen.add(m.value);
    byKey.set(m.key, [...(byKey.get(m.key) ?? []), nOf(m)]);
  }
  return byKey;
}

/**
 * What code above `EventBus` relies on, written once and run against every driver. Each test
 * uses fresh topics and groups, so a shared broker needs no wiping.
 */
export function describeEventBusContract(driver: string, open: () => Promise<EventBusUnderTest>, caps: EventBusCapabilities): void {
  const timeout = caps.deliveryTimeoutMs ?? 20_000;

  describe(`EventBus contract: ${driver}`, () => {
    let subject: EventBusUnderTest;
    let bus: EventBus;
    const subscriptions: Subscription[] = [];
    beforeAll(async () => {
      subject = await open();
      bus = subject.bus;
    });
    afterAll(async () => {
      await Promise.all(subscriptions.map((s) => s.stop()));
      await subject?.bus.close();
      await subject?.cleanup?.();
    });
    const subscribe = async (...args: Parameters<EventBus['subscribe']>) => {
      const s = await bus.subscribe(...args);
      subscriptions.push(s);
      return s;
    };

    it('delivers every message to every group, in publish order per key', async () => {
      const topic = fresh('topic');
      const keys = ['dpl-a', 'dpl-b', 'dpl-c', 'dpl-d'];
      const got: Record<string, BusMessage[]> = { one: [], two: [] };
      for (const group of Object.keys(got)) {
        await subscribe(topic, { groupId: fresh(group) }, async (batch) => {
          got[group]!.push(...batch);
        });
      }
      const all = messagesFor(keys, 40);
      // Several publishes, as a build emits them.
      for (let i = 0; i < all.length; i += 25) await bus.publish(topic, all.slice(i, i + 25));

      for (const group of Object.keys(got)) {
        await eventually(
          () => new Set(got[group]!.map((m) => m.value)).size === all.length,
          timeout,
          () => `group ${group} has ${new Set(got[group]!.map((m) => m.value)).size} of ${all.length}`,
        );
        const byKey = firstDeliveriesByKey(got[group]!);
        for (const key of keys) expect(byKey.get(key), `${group}/${key}`).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      }
    });

    it('hands a failed batch to the handler again, and loses or skips nothing after it', async () => {
      const topic = fresh('topic');
      const calls: { messages: BusMessage[]; ok: boolean }[] = [];
      let failuresLeft = 3;
      await subscribe(topic, { groupId: fresh('flaky'), maxBatchSize: 10 }, async (batch) => {
        const poisoned = batch.some((m) => nOf(m) === 17);
        if (poisoned && failuresLeft > 0) {
          failuresLeft--;
          calls.push({ messages: batch, ok: false });
          throw new Error('ClickHouse is down');
        }
        calls.push({ messages: batch, ok: true });
      });
      const all = messagesFor(['dpl-flaky'], 60);
      for (let i = 0; i < all.length; i += 20) await bus.publish(topic, all.slice(i, i + 20));

      const handled = () => calls.filter((c) => c.ok).flatMap((c) => c.messages);
      await eventually(
        () => new Set(handled().map((m) => m.value)).size === all.length,
        timeout,
        () => `${new Set(handled().map((m) => m.value)).size} of ${all.length} handled, ${calls.length} calls`,
      );
      expect(failuresLeft).toBe(0);

      // After each failure, the next call starts with the very batch that failed.
      calls.forEach((call, i) => {
        if (call.ok) return;
        const next = calls[i + 1];
        expect(next, `call after failure ${i}`).toBeDefined();
        expect(next!.messages.slice(0, call.messages.length)).toEqual(call.messages);
      });
      // Nothing past the failed batch was handled before it succeeded, and nothing is missing:
      // the successful batches, in order, are the published messages, in order.
      const values = handled().map(nOf);
      expect(values).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    });

    it('keeps batches within maxBatchSize', async () => {
      const topic = fresh('topic');
      const sizes: number[] = [];
      await subscribe(topic, { groupId: fresh('small'), maxBatchSize: 7 }, async (batch) => {
        sizes.push(batch.length);
      });
      await bus.publish(topic, messagesFor(['k'], 50));
      await eventually(
        () => sizes.reduce((a, b) => a + b, 0) >= 50,
        timeout,
        () => `${sizes.join(',')}`,
      );
      expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
      expect(sizes.every((n) => n > 0)).toBe(true);
    });

    it('lets stop finish the batch in hand, and delivers nothing after it', async () => {
      const topic = fresh('topic');
      let inHandler = false;
      let finished = 0;
      let afterStop = 0;
      let stopped = false;
      const subscription = await subscribe(topic, { groupId: fresh('stopper'), maxBatchSize: 5 }, async (batch) => {
        if (stopped) afterStop += batch.length;
        inHandler = true;
        await sleep(300);
        finished += batch.length;
        inHandler = false;
      });
      await bus.publish(topic, messagesFor(['k'], 20));
      await eventually(
        () => inHandler,
        timeout,
        () => 'handler never started',
      );
      await subscription.stop();
      stopped = true;
      expect(inHandler).toBe(false);
      expect(finished).toBeGreaterThan(0);
      await bus.publish(topic, messagesFor(['after'], 5));
      await sleep(500);
      expect(afterStop).toBe(0);
    });

    it('does not deliver to a new group without fromBeginning what was published before it subscribed', async () => {
      const topic = fresh('topic');
      // Make the topic exist with history (a group that has read it), then subscribe a new group.
      const early: BusMessage[] = [];
      await subscribe(topic, { groupId: fresh('early'), fromBeginning: true }, async (b) => {
        early.push(...b);
      });
      await bus.publish(topic, [{ key: 'k', value: JSON.stringify({ key: 'k', n: 1 }) }]);
      await eventually(
        () => early.length >= 1,
        timeout,
        () => 'early group got nothing',
      );

      const late: BusMessage[] = [];
      await subscribe(topic, { groupId: fresh('late') }, async (b) => {
        late.push(...b);
      });
      await bus.publish(topic, [{ key: 'k', value: JSON.stringify({ key: 'k', n: 2 }) }]);
      await eventually(
        () => late.length >= 1,
        timeout,
        () => 'late group got nothing',
      );
      await sleep(300);
      expect(late.map(nOf)).toEqual([2]);
    });

    whenDriver(caps.retainsMessages)('gives a new group with fromBeginning what was published before it existed', async () => {
      const topic = fresh('topic');
      const all = messagesFor(['x', 'y'], 10);
      await bus.publish(topic, all);
      const got: BusMessage[] = [];
      await subscribe(topic, { groupId: fresh('replay'), fromBeginning: true }, async (b) => {
        got.push(...b);
      });
      await eventually(
        () => new Set(got.map((m) => m.value)).size === all.length,
        timeout,
        () => `${got.length} of ${all.length}`,
      );
    });

    whenDriver(caps.retainsMessages)('resumes a group after the offsets it committed: nothing handled twice, nothing lost', async () => {
      const topic = fresh('topic');
      const groupId = fresh('resume');
      const first: BusMessage[] = [];
      const s1 = await subscribe(topic, { groupId, fromBeginning: true }, async (b) => {
        first.push(...b);
      });
      await bus.publish(topic, messagesFor(['k'], 10));
      await eventually(
        () => first.length >= 10,
        timeout,
        () => `${first.length} of 10`,
      );
      await s1.stop();

      await bus.publish(topic, messagesFor(['k2'], 5));
      const second: BusMessage[] = [];
      await subscribe(topic, { groupId, fromBeginning: true }, async (b) => {
        second.push(...b);
      });
      await eventually(
        () => second.length >= 5,
        timeout,
        () => `${second.length} of 5`,
      );
      await sleep(300);
      expect(second.map((m) => m.key)).toEqual(['k2', 'k2', 'k2', 'k2', 'k2']);
    });

    whenDriver(caps.sharedGroups)('shares one group’s messages between its subscriptions, each message handled once', async () => {
      const topic = fresh('topic');
      const groupId = fresh('shared');
      const got: BusMessage[][] = [[], []];
      for (const bucket of got) {
        await subscribe(topic, { groupId }, async (b) => {
          bucket.push(...b);
        });
      }
      const all = messagesFor(['a', 'b', 'c', 'd', 'e', 'f'], 10);
      await bus.publish(topic, all);
      const union = () => new Set(got.flat().map((m) => m.value)).size;
      await eventually(
        () => union() === all.length,
        timeout,
        () => `${union()} of ${all.length}`,
      );
      await sleep(500);
      // A rebalance may redeliver a little (at-least-once); without one, each message once.
      expect(got.flat().length).toBeGreaterThanOrEqual(all.length);
      expect(got.flat().length).toBeLessThan(all.length * 2);
    });
  });
}
