import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_EVENTS_TOPIC, type BuildEvent, type LogEvent } from '@platform/contracts';
import { createClickHouse, createLogStore, migrateClickHouse, type ClickHouse, type LogStore } from '@platform/clickhouse';
import { createPgliteDb, migrate, type Db } from '@platform/db';
import { createKafkaEventBus, deploymentEventKey, grantBuildProducer, signBuildEvent, type EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { createLocalObjectStore } from '@platform/object-store';
import { startPrivateKafka, type KafkaUser, type PrivateKafka } from '@platform/testing/kafka';
import { createApiMetrics } from '../metrics.ts';
import { ProjectsRepo } from '../projects/projects-repo.ts';
import { Urls } from '../urls.ts';
import { startBuildEventsConsumer } from './build-events-consumer.ts';
import { DeploymentsRepo } from './deployments-repo.ts';
import { RoutePublisher } from './route-publisher.ts';

const SECRET = `signing-${randomBytes(24).toString('hex')}`;
const TOPIC = `build-events-signed-${randomBytes(3).toString('hex')}`;

/**
 * The writer on a real Kafka with authentication and ACLs (a private broker set up as
 * `npm run infra:up` sets up the shared one), BUILD_EVENTS_SIGNING_SECRET set. Deployment A's
 * build holds only what its task carries: the build principal and A's signing key. Everything
 * it sends about B, unsigned, tampered or replayed must be dropped and counted.
 */
describe('signed build events through Kafka with ACLs', () => {
  let kafka: PrivateKafka;
  let dir: string;
  let db: Db;
  let clickhouse: ClickHouse;
  let logStore: LogStore;
  const buses: EventBus[] = [];
  const bus = (user: KafkaUser, clientId: string) => {
    const b = createKafkaEventBus({
      brokers: [kafka.auth!.brokers],
      clientId,
      sasl: { mechanism: 'scram-sha-512', ...user },
      topicNames: { [BUILD_EVENTS_TOPIC]: TOPIC },
    });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    kafka = await startPrivateKafka({ auth: true });
    dir = mkdtempSync(join(tmpdir(), 'signed-events-'));
    db = await createPgliteDb({ dataDir: join(dir, 'pglite') });
    await migrate(db);
    clickhouse = createClickHouse({ driver: 'chdb', path: join(dir, 'chdb') });
    await migrateClickHouse(clickhouse);
    logStore = createLogStore(clickhouse);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    await kafka?.destroy();
    await clickhouse?.close();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies A signed with its key; drops forged, unsigned, tampered and replayed events, and counts them', async () => {
    const logger = createLogger({ level: 'silent' });
    const deployments = new DeploymentsRepo(db);
    const projects = new ProjectsRepo(db);
    const metrics = createApiMetrics({ deployments });
    const p1 = await projects.create({ name: `signed a ${Date.now()}`, gitUrl: 'https://git.example.com/a.git' });
    const p2 = await projects.create({ name: `signed b ${Date.now()}`, gitUrl: 'https://git.example.com/b.git' });
    const a = await deployments.create({ projectId: p1.id, target: 'production', ref: 'main', commit: null });
    const b = await deployments.create({ projectId: p2.id, target: 'production', ref: 'main', commit: null });

    // The platform's principal creates the topic and grants the build principal WRITE on it.
    const platformBus = bus(kafka.auth!.platform, 'api-server');
    const consumer = await startBuildEventsConsumer(
      {
        bus: platformBus,
        logStore,
        deployments,
        projects,
        routes: new RoutePublisher({
          store: createLocalObjectStore({ rootDir: join(dir, 'objects') }),
          deployments,
          urls: new Urls({ rootDomain: 'localhost', scheme: 'http', port: 8000 }),
          logger,
        }),
        logger,
        onTerminal: () => {},
        guard: { signingSecret: SECRET, rejected: (reason) => metrics.buildEventsRejected.inc({ reason, consumer: 'writer' }) },
      },
      { groupId: 'writer', lingerMs: 5 },
    );
    await grantBuildProducer(
      { brokers: [kafka.auth!.brokers], clientId: 'acl', sasl: { mechanism: 'scram-sha-512', ...kafka.auth!.platform } },
      { principal: kafka.auth!.build.username, topic: TOPIC },
    );

    const keyA = deploymentEventKey(SECRET, { deploymentId: a.id, projectId: p1.id });
    const ts = Date.now();
    const idsA = { deploymentId: a.id, projectId: p1.id, ts };
    const idsB = { deploymentId: b.id, projectId: p2.id, ts };
    const lineA = signBuildEvent<LogEvent>({ ...idsA, type: 'log', seq: 2, stream: 'stdout', message: 'genuine line' }, keyA);
    const buildBus = bus(kafka.auth!.build, 'build-server');
    const send = (events: BuildEvent[]) =>
      buildBus.publish(
        BUILD_EVENTS_TOPIC,
        events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })),
      );
    await send([signBuildEvent({ ...idsA, type: 'status', seq: 1, status: 'BUILDING' }, keyA), lineA]);
    await send([
      // A's key on B's events: the hostile build moving another deployment.
      signBuildEvent({ ...idsB, type: 'status', seq: 1, status: 'BUILDING' }, keyA),
      signBuildEvent({ ...idsB, type: 'log', seq: 2, stream: 'stdout', message: 'injected into B' }, keyA),
      // Whoever holds only the build principal, without any key.
      { ...idsB, type: 'status', seq: 3, status: 'ERROR', detail: 'unsigned' },
      // A's own event, changed after signing.
      { ...signBuildEvent<LogEvent>({ ...idsA, type: 'log', seq: 3, stream: 'stdout', message: 'original' }, keyA), message: 'tampered' },
    ]);
    // Wait for the first batch to be applied, then replay its line.
    const deadline = Date.now() + 30_000;
    while ((await logStore.read(a.id)).length === 0 && Date.now() < deadline) await sleep(50);
    await send([lineA]);
    await send([signBuildEvent({ ...idsA, type: 'status', seq: 4, status: 'READY' }, keyA)]);
    while ((await deployments.get(a.id))?.status !== 'READY') {
      if (Date.now() > deadline) throw new Error('A never became READY');
      await sleep(50);
    }
    // B's events sit on other partitions (keyed by B), consumed in parallel with A's: wait until all five drops are counted.
    const rejected = async () => (await metrics.buildEventsRejected.get()).values.reduce((sum, v) => sum + v.value, 0);
    while ((await rejected()) < 5 && Date.now() < deadline) await sleep(50);
    await consumer.stop();

    expect((await logStore.read(a.id)).map((l) => [l.seq, l.message])).toEqual([[2, 'genuine line']]);
    expect((await deployments.get(b.id))?.status).toBe('QUEUED');
    expect(await logStore.read(b.id)).toEqual([]);
    const counted = Object.fromEntries((await metrics.buildEventsRejected.get()).values.map((v) => [String(v.labels.reason), v.value]));
    expect(counted).toEqual({ bad_signature: 3, unsigned: 1, replayed: 1 });
    // The figures are on /metrics.
    expect(await metrics.registry.metrics()).toMatch(/platform_build_events_rejected_total\{reason="bad_signature",consumer="writer"\} 3/);
  }, 120_000);
});
