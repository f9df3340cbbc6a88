import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEvent } from '@platform/contracts';
import { createClickHouse, type ClickHouse } from './client.ts';
import { migrateClickHouse } from './migrations.ts';
import { createRequestLogStore, type RequestLogStore } from './request-log-store.ts';

// chDB: the real ClickHouse engine in process, with the same SQL a ClickHouse server runs.
describe('request_logs on the ClickHouse engine', () => {
  let dir: string;
  let client: ClickHouse;
  let store: RequestLogStore;
  const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
  let seq = 0;
  const event = (over: Partial<RequestLogEvent>): RequestLogEvent => ({
    id: `test-${++seq}`,
    ts: T0,
    host: 'shop.localhost',
    projectId: 'prj_a',
    deploymentId: 'dep1',
    method: 'GET',
    path: '/',
    status: 200,
    bytes: 1000,
    durationMs: 1.5,
    cache: 'HIT',
    ...over,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chdb-request-logs-'));
    client = createClickHouse({ driver: 'chdb', path: dir });
    await migrateClickHouse(client);
    await migrateClickHouse(client); // idempotent
    store = createRequestLogStore(client);
  });
  afterAll(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aggregates requests, bandwidth, status classes, top paths and the cache hit ratio per project and bucket', async () => {
    const events = [
      event({ ts: T0 + 1_000, path: '/', bytes: 1000, cache: 'MISS' }),
      event({ ts: T0 + 2_000, path: '/', bytes: 1000 }),
      event({ ts: T0 + 3_000, path: '/', bytes: 1000 }),
      event({ ts: T0 + 61_000, path: '/app.js', bytes: 5000 }),
      event({ ts: T0 + 62_000, path: '/missing', status: 404, bytes: 200, cache: 'MISS' }),
      event({ ts: T0 + 63_000, path: '/old', status: 308, bytes: 0, cache: 'NONE' }),
      event({ ts: T0 + 180_000, path: '/app.js', status: 502, bytes: 300, cache: 'NONE' }),
      // Outside the range, and another project: never counted.
      event({ ts: T0 + 10 * 60_000, path: '/late' }),
      event({ ts: T0 - 1, path: '/early' }),
      event({ projectId: 'prj_b', ts: T0 + 1_000, path: '/other-project' }),
    ];
    await store.insert(events);
    // At-least-once delivery: a redelivered batch does not count twice.
    await store.insert(events.slice(0, 3));

    const a = await store.analytics({ projectId: 'prj_a', from: T0, to: T0 + 5 * 60_000, bucket: '1m' });
    expect(a.totals).toEqual({ requests: 7, bytes: 8500, cacheHits: 3, cacheMisses: 2, cacheHitRatio: 0.6 });
    expect(a.statusClasses).toEqual({ '1xx': 0, '2xx': 4, '3xx': 1, '4xx': 1, '5xx': 1 });
    expect(a.series).toEqual([
      { ts: '2026-11-27T10:00:00.000Z', requests: 3, bytes: 3000 },
      { ts: '2026-11-27T10:01:00.000Z', requests: 3, bytes: 5200 },
      { ts: '2026-11-27T10:02:00.000Z', requests: 0, bytes: 0 },
      { ts: '2026-11-27T10:03:00.000Z', requests: 1, bytes: 300 },
      { ts: '2026-11-27T10:04:00.000Z', requests: 0, bytes: 0 },
    ]);
    expect(a.topPaths).toEqual([
      { path: '/', requests: 3, bytes: 3000 },
      { path: '/app.js', requests: 2, bytes: 5300 },
      { path: '/missing', requests: 1, bytes: 200 },
      { path: '/old', requests: 1, bytes: 0 },
    ]);
    expect((await store.analytics({ projectId: 'prj_a', from: T0, to: T0 + 5 * 60_000, bucket: '1m', topPaths: 1 })).topPaths).toHaveLength(1);

    const b = await store.analytics({ projectId: 'prj_b', from: T0, to: T0 + 3_600_000, bucket: '1h' });
    expect(b.totals.requests).toBe(1);
    expect(b.series).toEqual([{ ts: '2026-11-27T10:00:00.000Z', requests: 1, bytes: 1000 }]);
  });

  it('answers an empty range with zeros and no ratio', async () => {
    const empty = await store.analytics({ projectId: 'prj_none', from: T0, to: T0 + 2 * 3_600_000, bucket: '1h' });
    expect(empty.totals).toEqual({ requests: 0, bytes: 0, cacheHits: 0, cacheMisses: 0, cacheHitRatio: null });
    expect(empty.series.map((s) => s.requests)).toEqual([0, 0]);
    expect(empty.topPaths).toEqual([]);
  });
});
