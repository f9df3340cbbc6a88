import { describe, expect, it } from 'vitest';
import { REQUEST_LOGS_TOPIC, requestLogEventSchema } from '@platform/contracts';
import type { BusMessage, EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { RequestLogger, serializeEvent, type PendingLog } from './request-logs.ts';

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
    const logger = new RequestLogger(bus, {
      instanceId: 'i2',
      maxBatch: 1_000,
      maxBuffered: 100,
      flushIntervalMs: 60_000,
      logger: createLogger({ level: 'silent' }),
    });
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
    record(logger, `/${'x'.repeat(5_000)}`);
    await logger.close();
    expect(requestLogEventSchema.parse(JSON.parse(published[0]![0]!.value)).path).toHaveLength(1024);
  });
});

describe('serializeEvent', () => {
  const base: PendingLog = {
    seq: 7,
    ts: 1_700_000_000_123,
    host: 'h.localhost',
    projectId: 'prj_1',
    deploymentId: 'dep_1',
    method: 'GET',
    path: '/',
    status: 200,
    bytes: 10,
    durationMs: 0.123456,
    cache: 'HIT',
  };
  // What the events were before the serializer was written by hand: JSON.stringify of the contract's object.
  const viaStringify = (log: PendingLog, instanceId: string) =>
    JSON.stringify({
      id: `${instanceId}-${log.seq}`,
      ts: log.ts,
      host: log.host,
      projectId: log.projectId,
      deploymentId: log.deploymentId,
      method: log.method,
      path: log.path.slice(0, 1024),
      status: log.status,
      bytes: log.bytes,
      durationMs: Math.round(log.durationMs * 1000) / 1000,
      cache: log.cache,
    });

  it('writes exactly the keys of the contract, in its order', () => {
    const event = JSON.parse(serializeEvent(base, 'i1'));
    expect(Object.keys(event)).toEqual(Object.keys(requestLogEventSchema.shape));
    expect(requestLogEventSchema.parse(event)).toEqual(event);
  });

  it('gives the bytes JSON.stringify gives, for any path or project id', () => {
    const paths = [
      '/a"b',
      '/back\\slash',
      '/tab\tnew\nline\u0000',
      '/caf\u00e9/\u{1f600}',
      '/lone\ud800',
      '/end\udc00x',
      '/\u2028',
      `/${'x'.repeat(1023)}\u{1f600}`,
      `/${'y'.repeat(3000)}`,
    ];
    for (const path of paths) {
      for (const projectId of ['prj_1', 'p"q', 'p\\q']) {
        const log = { ...base, path, projectId, durationMs: 1 / 3, cache: 'MISS' as const };
        expect(serializeEvent(log, 'inst')).toBe(viaStringify(log, 'inst'));
      }
    }
    expect(serializeEvent({ ...base, durationMs: 0 }, 'i')).toBe(viaStringify({ ...base, durationMs: 0 }, 'i'));
  });
});
