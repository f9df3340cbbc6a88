import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomId } from '@platform/contracts';
import { BuildEventEmitter } from '@platform/build-server';
import { createKafkaEventBus, type EventBus } from '@platform/event-bus';
import { integrationEnv, optionalIntegrationEnv, sharedKafkaSasl } from '@platform/testing/infra-env';
import { startPrivateKafka, type PrivateKafka } from '@platform/testing/kafka';
import { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import { LogClient, range } from '@platform/testing/log-client';
import { startLiveHarness, type LiveHarness } from '@platform/testing/platform';

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function storedSeqs(h: LiveHarness, deploymentId: string): Promise<number[]> {
  const result = await h.clickhouse.query({
    query: 'SELECT seq FROM log_events FINAL WHERE deployment_id = {id:String} ORDER BY seq',
    query_params: { id: deploymentId },
    format: 'JSONEachRow',
  });
  return (await result.json<{ seq: string }>()).map((r) => Number(r.seq));
}

/** A bus as a separate process would have it: the build-server publishes on one, the api-server consumes on another. */
const kafkaBus = (
  brokers: string,
  topic: string,
  clientId: string,
  sasl = brokers === optionalIntegrationEnv('KAFKA_BROKERS') ? sharedKafkaSasl() : undefined,
): EventBus =>
  createKafkaEventBus({
    brokers: [brokers],
    clientId,
    topicNames: { 'build-events': topic },
    handlerRetry: { initialMs: 50, maxMs: 1_000 },
    ...(sasl ? { sasl } : {}),
  });

// Real Apache Kafka. The broker restart runs on a broker of this test's own, so the shared one
// (KAFKA_BROKERS) stays up for every other test; the two-replica test uses the shared one.
describe('live logs on Kafka across a broker restart', () => {
  let kafka: PrivateKafka;
  let apiBus: EventBus;
  let buildBus: EventBus;
  let h: LiveHarness;
  beforeAll(async () => {
    kafka = await startPrivateKafka();
    const topic = `build-events-${randomId(8)}`;
    apiBus = kafkaBus(kafka.brokers, topic, 'api-server');
    buildBus = kafkaBus(kafka.brokers, topic, 'build-server');
    h = await startLiveHarness({ bus: apiBus });
  });
  afterAll(async () => {
    await h?.close();
    await buildBus?.close();
    await apiBus?.close();
    await kafka?.destroy();
  });

  it('ends a 20,000-line build with every line once, in order, in ClickHouse and at a client connected throughout', async () => {
    const ids = await h.createDeployment();
    const client = new LogClient(ids.deploymentId);
    expect(await client.connect(h.replicas[0]!.url)).toMatchObject({ ok: true });
    const emitter = new BuildEventEmitter(buildBus, ids, { batchSize: 500, lingerMs: 10 });

    await emitter.status('BUILDING');
    const lines = 20_000;
    let outage: Promise<void> | undefined;
    let brokerDown = false;
    let emittedWhileDown = 0;
    for (let i = 1; i <= lines; i++) {
      emitter.log(i % 5 === 0 ? 'stderr' : 'stdout', `build output line ${i}`);
      if (brokerDown) emittedWhileDown++;
      if (i === 4_000) {
        // Mid-build: the broker goes away for a few seconds while the build keeps printing.
        outage = (async () => {
          await kafka.stop();
          brokerDown = true;
          await sleep(3_000);
          brokerDown = false;
          await kafka.start();
        })();
      }
      if (i % 500 === 0) await sleep(150);
    }
    await emitter.status('READY'); // resolves once the broker has taken every event
    await outage;
    expect(emittedWhileDown).toBeGreaterThan(0);

    const total = lines + 2;
    expect((await client.ended).status).toBe('READY');
    expect(client.seqs()).toEqual(range(1, total));
    expect(client.received.filter((r) => r.event === 'log').map((r) => r.message)).toEqual(range(1, lines).map((i) => `build output line ${i}`));

    const deployments = new DeploymentsRepo(h.db);
    await waitFor('READY in the DB', async () => (await deployments.get(ids.deploymentId))?.status === 'READY');
    expect(await storedSeqs(h, ids.deploymentId)).toEqual(range(1, total));

    // A client arriving after the build gets the same log from ClickHouse.
    const late = new LogClient(ids.deploymentId);
    await late.connect(h.replicas[0]!.url);
    expect((await late.ended).status).toBe('READY');
    expect(late.seqs()).toEqual(range(1, total));
  });
});

describe('live logs on Kafka with two api-server replicas', () => {
  let apiBusA: EventBus;
  let apiBusB: EventBus;
  let buildBus: EventBus;
  let h: LiveHarness;
  beforeAll(async () => {
    const { KAFKA_BROKERS } = integrationEnv('KAFKA_BROKERS');
    // A topic of this run's own on the shared broker: no other test's events, no other test's writers.
    const topic = `build-events-${randomId(8)}`;
    apiBusA = kafkaBus(KAFKA_BROKERS, topic, 'api-a');
    apiBusB = kafkaBus(KAFKA_BROKERS, topic, 'api-b');
    buildBus = kafkaBus(KAFKA_BROKERS, topic, 'build-server');
    h = await startLiveHarness({ bus: apiBusA });
    // The second replica: its own Kafka clients, the same writer group, its own live group.
    await h.addReplica({}, apiBusB);
  });
  afterAll(async () => {
    await h?.close();
    for (const bus of [buildBus, apiBusA, apiBusB]) await bus?.close();
  });

  it('gives a client on each replica every line, with both replicas in one writer group', async () => {
    const ids = await h.createDeployment();
    const a = new LogClient(ids.deploymentId);
    const b = new LogClient(ids.deploymentId);
    await a.connect(h.replicas[0]!.url);
    await b.connect(h.replicas[1]!.url);
    const emitter = new BuildEventEmitter(buildBus, ids);
    await emitter.status('BUILDING');
    for (let i = 1; i <= 5_000; i++) {
      emitter.log('stdout', `line ${i}`);
      if (i % 1_000 === 0) await sleep(50);
    }
    await emitter.status('READY');
    for (const client of [a, b]) {
      expect((await client.ended).status).toBe('READY');
      expect(client.seqs()).toEqual(range(1, 5_002));
    }
    await waitFor('READY in the DB', async () => (await new DeploymentsRepo(h.db).get(ids.deploymentId))?.status === 'READY');
    expect(await storedSeqs(h, ids.deploymentId)).toEqual(range(1, 5_002));
  });
});

describe('the build-event writer on Kafka while ClickHouse fails', () => {
  let apiBusA: EventBus;
  let apiBusB: EventBus;
  let buildBus: EventBus;
  let h: LiveHarness;
  beforeAll(async () => {
    const { KAFKA_BROKERS } = integrationEnv('KAFKA_BROKERS');
    const topic = `build-events-${randomId(8)}`;
    apiBusA = kafkaBus(KAFKA_BROKERS, topic, 'api-a');
    apiBusB = kafkaBus(KAFKA_BROKERS, topic, 'api-b');
    buildBus = kafkaBus(KAFKA_BROKERS, topic, 'build-server');
    h = await startLiveHarness({ bus: apiBusA });
  });
  afterAll(async () => {
    await h?.close();
    for (const bus of [buildBus, apiBusA, apiBusB]) await bus?.close();
  });

  it('commits no offset past a failed insert: a replica that dies while ClickHouse is down leaves every event to the next one', async () => {
    const ids = await h.createDeployment();
    h.faults.failInserts = true;
    const emitter = new BuildEventEmitter(buildBus, ids);
    await emitter.status('BUILDING');
    for (let i = 1; i <= 3_000; i++) emitter.log('stdout', `line ${i}`);
    await emitter.status('READY');
    await waitFor('failing inserts', () => h.faults.failedInserts >= 3);

    // The replica goes away while its batch is still failing (its handler never resolved).
    const [dead] = h.replicas.splice(0, 1);
    await dead!.api.close();
    h.faults.failInserts = false;

    // A new replica in the same writer group gets the uncommitted events and stores them all.
    await h.addReplica({}, apiBusB);
    const deployments = new DeploymentsRepo(h.db);
    await waitFor('READY in the DB', async () => (await deployments.get(ids.deploymentId))?.status === 'READY');
    expect(await storedSeqs(h, ids.deploymentId)).toEqual(range(1, 3_002));
  });
});
