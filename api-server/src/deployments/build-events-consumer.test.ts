import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_EVENTS_TOPIC, type BuildEvent } from '@platform/contracts';
import { createClickHouse, createLogStore, migrateClickHouse, type ClickHouse, type LogStore } from '@platform/clickhouse';
import { createPgliteDb, migrate, type Db } from '@platform/db';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { ProjectsRepo } from '../projects/projects-repo.ts';
import { range } from '@platform/testing/log-client';
import { Urls } from '../urls.ts';
import { InsertBatcher, startBuildEventsConsumer } from './build-events-consumer.ts';
import { DeploymentsRepo } from './deployments-repo.ts';
import { RoutePublisher } from './route-publisher.ts';

const event = (seq: number): BuildEvent => ({ type: 'log', deploymentId: 'd', projectId: 'p', seq, ts: 0, stream: 'stdout', message: String(seq) });

describe('InsertBatcher', () => {
  it('inserts at once when idle, then gathers what arrives within the linger into one insert', async () => {
    const inserts: number[][] = [];
    const batcher = new InsertBatcher(async (events) => void inserts.push(events.map((e) => e.seq)), { maxRows: 1_000, lingerMs: 50 });
    await batcher.add([event(1)]);
    await Promise.all([batcher.add([event(2)]), batcher.add([event(3), event(4)]), batcher.add([])]);
    expect(inserts).toEqual([[1], [2, 3, 4]]);
  });

  it('inserts as soon as maxRows are waiting, without waiting for the linger', async () => {
    const inserts: number[][] = [];
    const batcher = new InsertBatcher(async (events) => void inserts.push(events.map((e) => e.seq)), { maxRows: 3, lingerMs: 3_600_000 });
    await batcher.add([event(1)]);
    const waiting = batcher.add([event(2)]);
    await batcher.add([event(3), event(4)]);
    await waiting;
    expect(inserts).toEqual([[1], [2, 3, 4]]);
  });

  it('fails every add of a batch whose insert failed, and goes on with the next batch', async () => {
    let fail = true;
    const batcher = new InsertBatcher(
      async () => {
        if (fail) throw new Error('down');
      },
      { maxRows: 1, lingerMs: 0 },
    );
    await expect(batcher.add([event(1)])).rejects.toThrow('down');
    fail = false;
    await expect(batcher.add([event(2)])).resolves.toBeUndefined();
  });
});

/** The metadata DB with every statement failing while `down` is set. */
function flakyDb(db: Db, state: { down: boolean; failures: number }): Db {
  const guard = () => {
    if (state.down) {
      state.failures++;
      throw new Error('injected fault: database unavailable');
    }
  };
  return {
    query: async (sql, params) => {
      guard();
      return db.query(sql, params);
    },
    transaction: async (fn) => {
      guard();
      return db.transaction(fn);
    },
    close: () => db.close(),
  };
}

describe('build-events consumer', () => {
  let dir: string;
  let db: Db;
  let clickhouse: ClickHouse;
  let logStore: LogStore;
  let store: ObjectStore;
  let bus: EventBus;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'consumer-test-'));
    db = await createPgliteDb({ dataDir: join(dir, 'pglite') });
    await migrate(db);
    clickhouse = createClickHouse({ driver: 'chdb', path: join(dir, 'chdb') });
    await migrateClickHouse(clickhouse);
    logStore = createLogStore(clickhouse);
    store = createLocalObjectStore({ rootDir: join(dir, 'objects') });
    bus = createInProcessEventBus({ retryBaseMs: 10, retryMaxMs: 50 });
  });
  afterAll(async () => {
    await bus?.close();
    await clickhouse?.close();
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pauses while the DB is down, then applies every status once the DB is back; the log is stored meanwhile', async () => {
    const dbState = { down: false, failures: 0 };
    const flaky = flakyDb(db, dbState);
    const deployments = new DeploymentsRepo(flaky);
    const projects = new ProjectsRepo(flaky);
    const logger = createLogger({ level: 'silent' });
    const project = await projects.create({ name: `consumer ${Date.now()}`, gitUrl: 'https://git.example.com/a.git' });
    const deployment = await deployments.create({ projectId: project.id, target: 'production', ref: 'main', commit: null });
    let terminals = 0;
    const consumer = await startBuildEventsConsumer(
      {
        bus,
        logStore,
        deployments,
        projects,
        routes: new RoutePublisher({ store, deployments, urls: new Urls({ rootDomain: 'localhost', scheme: 'http', port: 8000 }), logger }),
        logger,
        onTerminal: () => terminals++,
      },
      { groupId: 'db-outage', retryBaseMs: 10, retryMaxMs: 50, lingerMs: 5 },
    );

    dbState.down = true;
    const base = { deploymentId: deployment.id, projectId: project.id, ts: Date.now() };
    const events: BuildEvent[] = [
      { ...base, type: 'status', seq: 1, status: 'BUILDING' },
      ...range(2, 1_001).map((seq): BuildEvent => ({ ...base, type: 'log', seq, stream: 'stdout', message: `line ${seq}` })),
      { ...base, type: 'status', seq: 1_002, status: 'READY' },
    ];
    await bus.publish(
      BUILD_EVENTS_TOPIC,
      events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })),
    );
    while (dbState.failures < 5) await sleep(10);
    expect((await logStore.read(deployment.id)).map((l) => l.seq)).toEqual(range(2, 1_001));
    dbState.down = false;

    const readyDeadline = Date.now() + 20_000;
    while ((await deployments.get(deployment.id))?.status !== 'READY') {
      if (Date.now() > readyDeadline) throw new Error('READY was never applied');
      await sleep(10);
    }
    expect(terminals).toBe(1);
    expect((await deployments.get(deployment.id))?.last_event_seq).toBe(1_002);
    // READY published the deployment's routes before it became visible.
    expect(await store.get(`routes/${project.slug}.localhost.json`)).not.toBeNull();
    await consumer.stop();
  });

  it('hands each batch to onApplied only once it is stored and its statuses are on the row', async () => {
    const deployments = new DeploymentsRepo(db);
    const projects = new ProjectsRepo(db);
    const logger = createLogger({ level: 'silent' });
    const project = await projects.create({ name: `applied ${Date.now()}`, gitUrl: 'https://git.example.com/a.git' });
    const deployment = await deployments.create({ projectId: project.id, target: 'production', ref: 'main', commit: null });
    const seen: { seqs: number[]; status: string | undefined; stored: number; routed: boolean }[] = [];
    const consumer = await startBuildEventsConsumer(
      {
        bus,
        logStore,
        deployments,
        projects,
        routes: new RoutePublisher({ store, deployments, urls: new Urls({ rootDomain: 'localhost', scheme: 'http', port: 8000 }), logger }),
        logger,
        onTerminal: () => {},
        onApplied: async (events) => {
          const row = await deployments.get(deployment.id);
          const routed = (await store.get(`routes/${project.slug}.localhost.json`)) !== null;
          seen.push({ seqs: events.map((e) => e.seq), status: row?.status, stored: (await logStore.readEvents(deployment.id)).length, routed });
        },
      },
      { groupId: 'applied-hook', retryBaseMs: 10, retryMaxMs: 50, lingerMs: 5 },
    );
    const base = { deploymentId: deployment.id, projectId: project.id, ts: Date.now() };
    const events: BuildEvent[] = [
      { ...base, type: 'status', seq: 1, status: 'BUILDING' },
      { ...base, type: 'log', seq: 2, stream: 'stdout', message: 'built' },
      { ...base, type: 'status', seq: 3, status: 'READY' },
    ];
    await bus.publish(
      BUILD_EVENTS_TOPIC,
      events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })),
    );
    for (const until = Date.now() + 20_000; !seen.some((s) => s.seqs.includes(3)); await sleep(10)) {
      if (Date.now() > until) throw new Error('onApplied never saw READY');
    }
    const last = seen.find((s) => s.seqs.includes(3))!;
    expect(last).toMatchObject({ status: 'READY', stored: 3, routed: true });
    await consumer.stop();
  });

  it('stops within its drain timeout while an insert keeps failing', async () => {
    const failing: LogStore = { ...logStore, insert: async () => Promise.reject(new Error('injected fault: ClickHouse down')) };
    const deployments = new DeploymentsRepo(db);
    const logger = createLogger({ level: 'silent' });
    let attempts = 0;
    const counting: LogStore = {
      ...failing,
      insert: (e) => {
        attempts++;
        return failing.insert(e);
      },
    };
    const consumer = await startBuildEventsConsumer(
      {
        bus,
        logStore: counting,
        deployments,
        projects: new ProjectsRepo(db),
        routes: new RoutePublisher({ store, deployments, urls: new Urls({ rootDomain: 'localhost', scheme: 'http', port: 8000 }), logger }),
        logger,
        onTerminal: () => {},
      },
      { groupId: 'stuck', retryBaseMs: 10, retryMaxMs: 20, drainTimeoutMs: 100 },
    );
    await bus.publish(BUILD_EVENTS_TOPIC, [{ key: 'x', value: JSON.stringify({ ...event(1), deploymentId: 'x' }) }]);
    while (attempts < 3) await sleep(5);
    await consumer.stop(); // would hang forever if retries ignored the stop
    const after = attempts;
    await sleep(100);
    expect(attempts).toBe(after);
  });
});
