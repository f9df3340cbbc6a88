import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_EVENTS_TOPIC, WRITER_APPLIED_TOPIC, type BuildEvent, type WriterApplied } from '@platform/contracts';
import { createClickHouse, createLogStore, migrateClickHouse, type ClickHouse, type LogStore } from '@platform/clickhouse';
import { createPgliteDb, migrate, type Db } from '@platform/db';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import { ProjectsRepo } from '../projects/projects-repo.ts';
import { LogClient } from '@platform/testing/log-client';
import { createLiveLogs, type LiveLogs } from './index.ts';

/**
 * One replica's live logs with no writer of its own: the writer is "another replica", played
 * by the test, which stores events, updates the row and publishes the applied event. The row
 * is rechecked only once a minute here, so a release within the test's time comes from the
 * applied event alone.
 */
let dir: string;
let db: Db;
let clickhouse: ClickHouse;
let logStore: LogStore;
let bus: EventBus;
let server: Server;
let live: LiveLogs;
let url: string;
const deployments = () => new DeploymentsRepo(db);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'terminal-hold-'));
  db = await createPgliteDb({ dataDir: join(dir, 'pglite') });
  await migrate(db);
  clickhouse = createClickHouse({ driver: 'chdb', path: join(dir, 'chdb') });
  await migrateClickHouse(clickhouse);
  logStore = createLogStore(clickhouse);
  bus = createInProcessEventBus({ retryBaseMs: 10, retryMaxMs: 50 });
  live = createLiveLogs(
    { bus, logStore, deployments: deployments(), logger: createLogger({ level: 'silent' }) },
    { applied: { timeoutMs: 120_000, recheckMs: 60_000 } },
  );
  server = createServer();
  await live.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await live?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await bus?.close();
  await clickhouse?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const newDeployment = async () => {
  const project = await new ProjectsRepo(db).create({ name: `hold ${Date.now()} ${Math.random()}`, gitUrl: 'https://git.example.com/a.git' });
  const row = await deployments().create({ projectId: project.id, target: 'preview', ref: 'main', commit: null });
  const base = { deploymentId: row.id, projectId: project.id, ts: Date.now() };
  const events: BuildEvent[] = [
    { ...base, type: 'status', seq: 1, status: 'BUILDING' },
    { ...base, type: 'log', seq: 2, stream: 'stdout', message: 'building' },
    { ...base, type: 'status', seq: 3, status: 'READY' },
  ];
  return { id: row.id, events };
};
const publish = (events: readonly BuildEvent[]) =>
  bus.publish(
    BUILD_EVENTS_TOPIC,
    events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })),
  );
/** What a writer on another replica does after committing the batch. */
const announce = (applied: WriterApplied) => bus.publish(WRITER_APPLIED_TOPIC, [{ key: applied.deploymentId, value: JSON.stringify(applied) }]);

describe('live logs hold a terminal status until a writer has applied it', () => {
  it('delivers a live READY only after the applied event of another replica’s writer', async () => {
    const { id, events } = await newDeployment();
    const client = new LogClient(id);
    expect(await client.connect(url)).toMatchObject({ ok: true, status: 'QUEUED' });
    await publish(events);
    for (const until = Date.now() + 10_000; client.received.length < 2 && Date.now() < until; ) await sleep(10);
    await sleep(300);
    expect(client.seqs()).toEqual([1, 2]);
    // Applied up to an earlier seq: still held.
    await announce({ deploymentId: id, upToSeq: 2 });
    await sleep(100);
    expect(client.seqs()).toEqual([1, 2]);
    const announcedAt = Date.now();
    await announce({ deploymentId: id, upToSeq: 3 });
    expect(await client.ended).toMatchObject({ status: 'READY', seq: 3 });
    expect(Date.now() - announcedAt).toBeLessThan(2_000);
    expect(client.seqs()).toEqual([1, 2, 3]);
    client.disconnect();
  });

  it('holds a READY read from history too: ClickHouse has it before the row and the routes do', async () => {
    const { id, events } = await newDeployment();
    await logStore.insert(events); // the writer's first step; its DB step has not run yet
    const client = new LogClient(id);
    await client.connect(url);
    for (const until = Date.now() + 10_000; client.received.length < 2 && Date.now() < until; ) await sleep(10);
    await sleep(300);
    expect(client.seqs()).toEqual([1, 2]);
    for (const e of events) if (e.type === 'status') await deployments().applyStatusEvent(e);
    await announce({ deploymentId: id, upToSeq: 3 });
    expect(await client.ended).toMatchObject({ status: 'READY', seq: 3 });
    expect(client.seqs()).toEqual([1, 2, 3]);
    client.disconnect();
  });

  it('sends at once a READY the row already shows (a build that finished before the client came)', async () => {
    const { id, events } = await newDeployment();
    await logStore.insert(events);
    for (const e of events) if (e.type === 'status') await deployments().applyStatusEvent(e);
    const client = new LogClient(id);
    await client.connect(url);
    expect(await client.ended).toMatchObject({ status: 'READY', seq: 3 });
    expect(client.seqs()).toEqual([1, 2, 3]);
    client.disconnect();
  });
});
