import { describe, expect, it } from 'vitest';
import { REQUEST_LOGS_TOPIC, requestLogEventSchema } from '@platform/contracts';
import type { BusMessage, EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { RequestLogger } from './request-logs.ts';

function fakeBus(fail: () => boolean) {
  const published: BusMessage[][] = [];
  const bus: EventBus = {
    publish: async (topic, messages) => {
      expect(topic).toBe(REQUEST_LOGS_TOPIC);
      if (fail()) throw new Error('broker unavailable');
      published.push([...messages]);
    },
    subscribe: async () => ({ stop: async () => {} }),
    close: async () => {},
  };
  return { bus, published };
}

const record = (logger: RequestLogger, path: string) => logger.record(Date.now(), 'h.localhost', 'prj_1', 'dep_1', 'GET', path, 200, 10, 0.5, 'HIT');

describe('RequestLogger', () => {
  it('publishes full batches at once and the rest on flush, each event valid and keyed by project', async () => {
    const { bus, published } = fakeBus(() => false);
    const logger = new RequestLogger(bus, { instanceId: 'i1', maxBatch: 3, flushIntervalMs: 60_000, logger: createLogger({ level: 'silent' }) });
    for (let i = 0; i < 4; i++) record(logger, `/${i}`);
    await logger.flush();
    await logger.close();
    expect(published.map((b) => b.length)).toEqual([3, 1]);
    const events = published.flat().map((m) => ({ key: m.key, event: requestLogEventSchema.parse(JSON.parse(m.value)) }));
    expect(events.map((e) => e.event.path)).toEqual(['/0', '/1', '/2', '/3']);
    expect(events.map((e) => e.event.id)).toEqual(['i1-1', 'i1-2', 'i1-3', 'i1-4']);
    expect(events.every((e) => e.key === 'prj_1')).toBe(true);
  });

  it('keeps what the bus refused and sheds the oldest beyond its bound', async () => {
    let failing = true;
    const { bus, published } = fakeBus(() => failing);
    const logger = new RequestLogger(bus, { instanceId: 'i2', maxBatch: 1_000, maxBuffered: 100, flushIntervalMs: 60_000, logger: createLogger({ level: 'silent' }) });
    for (let i = 0; i < 250; i++) record(logger, `/${i}`);
    await logger.flush();
    expect(published).toEqual([]);
    failing = false;
    await logger.close();
    const paths = published.flat().map((m) => JSON.parse(m.value).path as string);
    expect(paths.length).toBeLessThanOrEqual(100);
    expect(paths.length).toBeGreaterThanOrEqual(90);
    expect(paths.at(-1)).toBe('/249');
  });

  it('truncates very long paths to what the contract allows', async () => {
    const { bus, published } = fakeBus(() => false);
    const logger = new RequestLogger(bus, { instanceId: 'i3', flushIntervalMs: 60_000, logger: createLogger({ level: 'silent' }) });
    record(logger, '/' + 'x'.repeat(5_000));
    await logger.close();
    expect(requestLogEventSchema.parse(JSON.parse(published[0]![0]!.value)).path).toHaveLength(1024);
  });
});
