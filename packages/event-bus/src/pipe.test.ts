import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createPipeEventBus, readPipeBatches } from './pipe.ts';

describe('pipe bus → readPipeBatches', () => {
  it('delivers every frame in order, batching what arrived while the reader was busy', async () => {
    const wire = new PassThrough();
    const bus = createPipeEventBus({ stream: wire });
    const writing = (async () => {
      for (let i = 1; i <= 3_000; i++) await bus.publish('build-events', [{ key: 'dpl', value: String(i) }]);
      wire.write('not json\n');
      await bus.publish('request-logs', [{ key: 'host', value: 'last' }]);
      await bus.close();
    })();

    const batches: { topic: string; value: string }[][] = [];
    const malformed: string[] = [];
    for await (const batch of readPipeBatches(wire, { maxBatch: 200, onMalformed: (l) => malformed.push(l) })) {
      batches.push(batch.map((f) => ({ topic: f.topic, value: f.value })));
      await sleep(5); // a publish round trip
    }
    await writing;

    const values = batches.flat();
    expect(values.slice(0, 3_000).map((f) => Number(f.value))).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
    expect(values.at(-1)).toEqual({ topic: 'request-logs', value: 'last' });
    expect(values).toHaveLength(3_001);
    expect(malformed).toEqual(['not json']);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(200);
    expect(batches.length).toBeLessThan(3_001 / 5); // batched, not one by one
  });

  it('ends when the writer closes without writing', async () => {
    const wire = new PassThrough();
    wire.end();
    const batches = [];
    for await (const batch of readPipeBatches(wire)) batches.push(batch);
    expect(batches).toEqual([]);
  });
});
