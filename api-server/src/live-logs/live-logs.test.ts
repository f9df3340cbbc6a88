import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_EVENTS_TOPIC, type BuildEvent } from '@platform/contracts';
import { BuildEventEmitter } from '@platform/build-server';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import { LogClient, range } from '@platform/testing/log-client';
import { startLiveHarness, type LiveHarness } from '@platform/testing/platform';

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Emits `lines` log lines in bursts, between BUILDING and a final status; resolves when all were published. */
async function emitBuild(
  emitter: BuildEventEmitter,
  lines: number,
  options: { burst?: number; pauseMs?: number; onBurst?: (sent: number) => Promise<void> | void; final?: 'READY' | 'ERROR' } = {},
) {
  await emitter.status('BUILDING');
  const burst = options.burst ?? 500;
  for (let i = 1; i <= lines; i++) {
    emitter.log(i % 7 === 0 ? 'stderr' : 'stdout', `line ${i} of the build`);
    if (i % burst === 0) {
      await emitter.flush();
      await options.onBurst?.(i);
      await sleep(options.pauseMs ?? 10);
    }
  }
  await emitter.status(options.final ?? 'READY');
}

let bus: EventBus;
let h: LiveHarness;

/**
 * A fresh bus and harness for the describe block it is called in (the blocks run one after
 * another: chDB allows one data folder per process at a time).
 */
function useLiveHarness(options: Omit<Parameters<typeof startLiveHarness>[0], 'bus'> = {}): void {
  beforeAll(async () => {
    bus = createInProcessEventBus({ retryBaseMs: 10, retryMaxMs: 100 });
    h = await startLiveHarness({ bus, ...options });
  });
  afterAll(async () => {
    await h?.close();
    await bus?.close();
  });
}

describe('live logs over socket.io on the embedded bus: every event once, in order', () => {
  useLiveHarness();

  it('gives a client connected throughout, one joining halfway and one reconnecting every event once, in order, while the writer lags behind the live feed', async () => {
    const ids = await h.createDeployment();
    const url = h.replicas[0]!.url;
    // The writer is slower than the live feed: live events run ahead of ClickHouse, so a
    // client joining mid-build must fill the hole between history and live from ClickHouse.
    h.faults.insertDelayMs = 40;
    const throughout = new LogClient(ids.deploymentId);
    expect(await throughout.connect(url)).toMatchObject({ ok: true, status: 'QUEUED' });
    const halfway = new LogClient(ids.deploymentId);
    const reconnecting = new LogClient(ids.deploymentId);
    await reconnecting.connect(url);

    const lines = 6_000;
    const emitter = new BuildEventEmitter(bus, ids, { batchSize: 200, lingerMs: 5 });
    await emitBuild(emitter, lines, {
      onBurst: async (sent) => {
        if (sent === 2_000) reconnecting.disconnect();
        if (sent === 3_000) {
          expect(await halfway.connect(url)).toMatchObject({ ok: true, status: 'BUILDING' });
          await reconnecting.connect(url);
        }
      },
    });
    const total = lines + 2;
    for (const client of [throughout, halfway, reconnecting]) {
      expect((await client.ended).status).toBe('READY');
      expect(client.seqs()).toEqual(range(1, total));
      expect(client.errors).toEqual([]);
    }
    expect(throughout.received[1]).toMatchObject({ event: 'log', seq: 2, message: 'line 1 of the build' });
    h.faults.insertDelayMs = 0;
  });

  it('loses nothing while ClickHouse fails, and stores every event exactly once after it recovers', async () => {
    const ids = await h.createDeployment();
    const client = new LogClient(ids.deploymentId);
    await client.connect(h.replicas[0]!.url);
    h.faults.failInserts = true;
    const failedBefore = h.faults.failedInserts;
    const lines = 3_000;
    await emitBuild(new BuildEventEmitter(bus, ids, { batchSize: 250, lingerMs: 5 }), lines);
    await waitFor('several failed inserts', () => h.faults.failedInserts >= failedBefore + 3);
    // Consumption is paused: the deployment cannot be READY while its lines are not stored.
    const deployments = new DeploymentsRepo(h.db);
    expect((await deployments.get(ids.deploymentId))?.status).toBe('QUEUED');
    // A client joining now finds no history and will see no more live events: it must still
    // get the whole build once ClickHouse has it.
    const late = new LogClient(ids.deploymentId);
    await late.connect(h.replicas[0]!.url);
    await sleep(200);
    expect(late.received).toEqual([]);
    h.faults.failInserts = false;

    const total = lines + 2;
    await waitFor('READY in the DB', async () => (await deployments.get(ids.deploymentId))?.status === 'READY');
    const stored = await h.clickhouse.query({
      query: 'SELECT seq FROM log_events FINAL WHERE deployment_id = {id:String} ORDER BY seq',
      query_params: { id: ids.deploymentId },
      format: 'JSONEachRow',
    });
    expect((await stored.json<{ seq: string }>()).map((r) => Number(r.seq))).toEqual(range(1, total));
    // The live client never depended on ClickHouse being up.
    for (const c of [client, late]) {
      expect((await c.ended).status).toBe('READY');
      expect(c.seqs()).toEqual(range(1, total));
    }
  });
});

describe('live logs over socket.io on the embedded bus: replay, holes and ends', () => {
  useLiveHarness();

  it('replays a finished build after the seq a client names, and ends a stream the client has completely', async () => {
    const ids = await h.createDeployment();
    await emitBuild(new BuildEventEmitter(bus, ids), 1_200, { final: 'ERROR' });
    const deployments = new DeploymentsRepo(h.db);
    await waitFor('ERROR in the DB', async () => (await deployments.get(ids.deploymentId))?.status === 'ERROR');

    const resuming = new LogClient(ids.deploymentId, 1_000);
    expect(await resuming.connect(h.replicas[0]!.url)).toMatchObject({ ok: true, status: 'ERROR' });
    expect((await resuming.ended).status).toBe('ERROR');
    expect(resuming.seqs()).toEqual(range(1_001, 1_202));

    const complete = new LogClient(ids.deploymentId, 1_202);
    await complete.connect(h.replicas[0]!.url);
    expect(await complete.ended).toMatchObject({ status: 'ERROR', seq: 1_202 });
    expect(complete.seqs()).toEqual([1_202]);
  });

  it('skips a hole the writer has provably passed (a malformed event) instead of waiting forever', async () => {
    const ids = await h.createDeployment();
    const client = new LogClient(ids.deploymentId);
    await client.connect(h.replicas[0]!.url);
    const base = { deploymentId: ids.deploymentId, projectId: ids.projectId, ts: Date.now() };
    const events: BuildEvent[] = [
      { ...base, type: 'status', seq: 1, status: 'BUILDING' },
      { ...base, type: 'log', seq: 2, stream: 'stdout', message: 'before' },
    ];
    const publish = (values: string[]) =>
      bus.publish(
        BUILD_EVENTS_TOPIC,
        values.map((value) => ({ key: ids.deploymentId, value })),
      );
    await publish(events.map((e) => JSON.stringify(e)));
    await publish(['{"type":"log","seq":3,"not":"valid"']);
    await publish([JSON.stringify({ ...base, type: 'status', seq: 4, status: 'READY' })]);
    expect((await client.ended).status).toBe('READY');
    expect(client.seqs()).toEqual([1, 2, 4]);
  });

  it('closes the stream of a build the platform ended without a status event', async () => {
    const ids = await h.createDeployment();
    const emitter = new BuildEventEmitter(bus, ids);
    await emitter.status('BUILDING');
    emitter.log('stdout', 'working');
    await emitter.flush();
    const client = new LogClient(ids.deploymentId);
    await client.connect(h.replicas[0]!.url);
    await waitFor('the line', () => client.received.length === 2);
    await new DeploymentsRepo(h.db).finish(ids.deploymentId, 'ERROR', 'the build ran past its timeout');
    expect(await client.ended).toMatchObject({ status: 'ERROR' });
    expect(client.seqs()).toEqual([1, 2, 2]);
  });
});

describe('live logs over socket.io on the embedded bus: READY, and bad subscriptions', () => {
  useLiveHarness();

  it('sends READY only once the row is READY (its routes published first), while the writer lags far behind the live feed', async () => {
    const ids = await h.createDeployment();
    const client = new LogClient(ids.deploymentId);
    await client.connect(h.replicas[0]!.url);
    const deployments = new DeploymentsRepo(h.db);
    // Every insert waits: the live feed has READY long before the writer can apply it.
    h.faults.insertDelayMs = 400;
    try {
      await emitBuild(new BuildEventEmitter(bus, ids), 50);
      const ready = await client.ended;
      const row = await deployments.get(ids.deploymentId);
      expect(row).toMatchObject({ status: 'READY', last_event_seq: ready.seq });
      expect(client.seqs()).toEqual(range(1, 52));
    } finally {
      h.faults.insertDelayMs = 0;
    }
  });

  it('answers a bad or unknown subscription with a reason', async () => {
    const client = new LogClient('');
    expect(await client.connect(h.replicas[0]!.url)).toMatchObject({ ok: false, error: expect.stringContaining('deploymentId') });
    const unknown = new LogClient('no-such-deployment');
    expect(await unknown.connect(h.replicas[0]!.url)).toEqual({ ok: false, error: 'deployment not found' });
    client.disconnect();
    unknown.disconnect();
  });
});

describe('live logs with two api-server replicas on one bus', () => {
  // The in-process bus allows one consumer per group in a process, so the second replica
  // writes under a group of its own here (both writes are idempotent); on Kafka the
  // replicas share one writer group (see live-logs.integration.test.ts).
  useLiveHarness({ replicas: 2, replicaOptions: (i) => (i === 1 ? { buildEvents: { groupId: 'second-writer' } } : {}) });

  it('delivers every line to a client on each replica', async () => {
    const ids = await h.createDeployment();
    const a = new LogClient(ids.deploymentId);
    const b = new LogClient(ids.deploymentId);
    await a.connect(h.replicas[0]!.url);
    await b.connect(h.replicas[1]!.url);
    await emitBuild(new BuildEventEmitter(bus, ids), 2_000);
    for (const client of [a, b]) {
      expect((await client.ended).status).toBe('READY');
      expect(client.seqs()).toEqual(range(1, 2_002));
    }
  });

  it('sends READY on either replica only once the row is READY, whichever replica’s writer applied it', async () => {
    const ids = await h.createDeployment();
    const clients = [new LogClient(ids.deploymentId), new LogClient(ids.deploymentId)];
    await clients[0]!.connect(h.replicas[0]!.url);
    await clients[1]!.connect(h.replicas[1]!.url);
    const deployments = new DeploymentsRepo(h.db);
    h.faults.insertDelayMs = 400;
    try {
      await emitBuild(new BuildEventEmitter(bus, ids), 50);
      for (const client of clients) {
        const ready = await client.ended;
        expect(await deployments.get(ids.deploymentId)).toMatchObject({ status: 'READY', last_event_seq: ready.seq });
        expect(client.seqs()).toEqual(range(1, 52));
      }
    } finally {
      h.faults.insertDelayMs = 0;
    }
  });
});
