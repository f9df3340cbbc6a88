import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '@platform/contracts';
import { createClickHouse, type ClickHouse } from './client.ts';
import { createLogStore, type LogStore } from './log-store.ts';
import { currentLogTtlDays, migrateClickHouse } from './migrations.ts';

const DAY = 86_400_000;
let counter = 0;
const freshId = () => `dpl-q-${Date.now()}-${counter++}`;

function line(deploymentId: string, seq: number, message: string, ts = Date.now()): BuildEvent {
  return { type: 'log', deploymentId, projectId: 'prj_q', seq, ts, stream: 'stdout', message };
}

// What live delivery and the logs route need from log_events beyond plain reads, on the
// ClickHouse engine in process (one chDB folder per test file).
describe('log store: events, search, retention', () => {
  let dir: string;
  let client: ClickHouse;
  let logs: LogStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chdb-queries-'));
    client = createClickHouse({ driver: 'chdb', path: join(dir, 'chdb') });
    await migrateClickHouse(client, { logRetentionDays: 30 });
    logs = createLogStore(client);
  });
  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads log and status events in seq order, each once, between two seqs', async () => {
    const id = freshId();
    const ts = Date.UTC(2026, 10, 27, 9, 0, 0, 250);
    const events: BuildEvent[] = [
      { type: 'status', deploymentId: id, projectId: 'prj_q', seq: 1, ts, status: 'BUILDING' },
      line(id, 2, 'compiling', ts),
      line(id, 3, 'done', ts),
      { type: 'status', deploymentId: id, projectId: 'prj_q', seq: 4, ts, status: 'ERROR', detail: 'build command exited with code 1' },
    ];
    await logs.insert(events);
    await logs.insert(events.slice(1, 3)); // a redelivery
    expect(await logs.readEvents(id)).toEqual(events);
    expect((await logs.readEvents(id, { afterSeq: 1, beforeSeq: 4 })).map((e) => e.seq)).toEqual([2, 3]);
    expect((await logs.readEvents(id, { afterSeq: 2, limit: 1 })).map((e) => e.seq)).toEqual([3]);
  });

  it('finds lines containing a text, ignoring case (also beyond ASCII), with paging after a seq', async () => {
    const id = freshId();
    await logs.insert([
      line(id, 1, 'Installing ÄPFEL'),
      line(id, 2, 'npm WARN deprecated'),
      line(id, 3, 'äpfel ready'),
      line(id, 4, 'warn again'),
      line(id, 5, '100% done'),
    ]);
    expect((await logs.read(id, { contains: 'äpfel' })).map((l) => l.seq)).toEqual([1, 3]);
    expect((await logs.read(id, { contains: 'WARN', afterSeq: 2 })).map((l) => l.seq)).toEqual([4]);
    expect((await logs.read(id, { contains: '%' })).map((l) => l.seq)).toEqual([5]);
    expect(await logs.read(id, { contains: "'; DROP TABLE log_events; --" })).toEqual([]);
    expect(await logs.read(id, { limit: 2 })).toHaveLength(2);
  });

  it('applies a changed retention, and leaves an unchanged one alone', async () => {
    expect(await currentLogTtlDays(client)).toBe(30);
    await migrateClickHouse(client, { logRetentionDays: 7 });
    expect(await currentLogTtlDays(client)).toBe(7);
    await migrateClickHouse(client, { logRetentionDays: 7 });
    expect(await currentLogTtlDays(client)).toBe(7);
    await migrateClickHouse(client, { logRetentionDays: 30 });
    expect(await currentLogTtlDays(client)).toBe(30);
  });

  it('drops lines older than the retention and keeps recent ones', async () => {
    const id = freshId();
    const now = Date.now();
    await logs.insert([line(id, 1, 'forty days old', now - 40 * DAY), line(id, 2, 'today', now)]);
    await client.command({ query: 'OPTIMIZE TABLE log_events FINAL' });
    expect((await logs.read(id)).map((l) => l.message)).toEqual(['today']);
  });
});
