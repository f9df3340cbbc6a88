import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateKafka, type PrivateKafka } from '@platform/testing/kafka';
import type { BusMessage, EventBus } from './event-bus.ts';
import { createKafkaEventBus } from './kafka.ts';

// A broker of this test's own (the shared one must stay up for the other tests).
describe('Kafka event bus across a broker restart', () => {
  let kafka: PrivateKafka;
  let bus: EventBus;
  beforeAll(async () => {
    kafka = await startPrivateKafka();
    bus = createKafkaEventBus({ brokers: [kafka.brokers], clientId: 'restart-test', handlerRetry: { initialMs: 50, maxMs: 500 } });
  });
  afterAll(async () => {
    await bus?.close();
    await kafka?.destroy();
  });

  it('keeps publishing and consuming: every message arrives, in order per key, after the broker comes back', async () => {
    const topic = 'build-events';
    const got: BusMessage[] = [];
    await bus.subscribe(topic, { groupId: 'writers', fromBeginning: true }, async (batch) => {
      got.push(...batch);
    });

    const keys = ['dpl-1', 'dpl-2', 'dpl-3'];
    const total = 60;
    let published = 0;
    const publisher = (async () => {
      for (let n = 1; n <= total; n++) {
        // Each publish resolves only once the broker acknowledged it, outage or not.
        await bus.publish(
          topic,
          keys.map((key) => ({ key, value: JSON.stringify({ key, n }) })),
        );
        published = n;
        await sleep(50);
      }
    })();

    while (published < 15) await sleep(20);
    await kafka.stop();
    await sleep(2_000); // the broker is away: publishes and the consumer wait and retry
    await kafka.start();
    await publisher;

    const expected = total * keys.length;
    const distinct = () => new Set(got.map((m) => m.value)).size;
    const until = Date.now() + 90_000;
    while (distinct() < expected && Date.now() < until) await sleep(100);
    expect(distinct()).toBe(expected);

    // Per key, first deliveries are in publish order (redeliveries after the restart are allowed).
    const seen = new Set<string>();
    const byKey = new Map<string, number[]>();
    for (const m of got) {
      if (seen.has(m.value)) continue;
      seen.add(m.value);
      byKey.set(m.key, [...(byKey.get(m.key) ?? []), (JSON.parse(m.value) as { n: number }).n]);
    }
    for (const key of keys) expect(byKey.get(key)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});
