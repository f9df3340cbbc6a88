import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, ResourcePatternTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateKafka, type KafkaUser, type PrivateKafka } from '@platform/testing/kafka';
import type { BusMessage, EventBus } from './event-bus.ts';
import { grantBuildProducer } from './kafka-acls.ts';
import { createKafkaEventBus, kafkaClientConfig, type KafkaEventBusOptions } from './kafka.ts';

const TOPIC = `build-events-acl-${randomBytes(3).toString('hex')}`;
const OTHER = `request-logs-acl-${randomBytes(3).toString('hex')}`;

/**
 * A broker of this test's own, configured as `npm run infra:up` configures the shared one:
 * SASL/SCRAM only, KRaft's StandardAuthorizer, `platform` a super user, `build` granted WRITE
 * on the build-events topic alone. Each test is an attack a build's credentials could try.
 */
describe('Kafka ACLs: what a build principal may do (SASL/SCRAM, StandardAuthorizer)', () => {
  let kafka: PrivateKafka;
  const opened: EventBus[] = [];
  const options = (user: KafkaUser, clientId: string): KafkaEventBusOptions => ({
    brokers: [kafka.auth!.brokers],
    clientId,
    sasl: { mechanism: 'scram-sha-512', ...user },
    // Quick failures: an authorization error is final, waiting out retries proves nothing.
    handlerRetry: { initialMs: 50, maxMs: 200 },
  });
  const bus = (user: KafkaUser, clientId: string) => {
    const b = createKafkaEventBus(options(user, clientId));
    opened.push(b);
    return b;
  };

  beforeAll(async () => {
    kafka = await startPrivateKafka({ auth: true });
    const platform = bus(kafka.auth!.platform, 'platform-setup');
    // The platform creates both topics (a build may not create any) and grants the build principal.
    await platform.publish(TOPIC, [{ key: 'setup', value: 'setup' }]);
    await platform.publish(OTHER, [{ key: 'setup', value: 'setup' }]);
    await grantBuildProducer(options(kafka.auth!.platform, 'platform-acl'), { principal: kafka.auth!.build.username, topic: TOPIC });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(opened.map((b) => b.close().catch(() => undefined)));
    await kafka?.destroy();
  });

  it('lets the build produce to the build-events topic, and the platform read it', async () => {
    await bus(kafka.auth!.build, 'build-ok').publish(TOPIC, [{ key: 'dpl1', value: 'from the build' }]);
    const got: BusMessage[] = [];
    await bus(kafka.auth!.platform, 'platform-reader').subscribe(TOPIC, { groupId: 'writer', fromBeginning: true }, async (batch) => {
      got.push(...batch);
    });
    const until = Date.now() + 30_000;
    while (!got.some((m) => m.value === 'from the build') && Date.now() < until) await sleep(50);
    expect(got.map((m) => m.value)).toContain('from the build');
  });

  // The attacks use kafkajs directly, as a hostile build would, not the platform's bus.
  const raw = (user: KafkaUser, clientId: string) => new Kafka({ ...kafkaClientConfig(options(user, clientId)), retry: { retries: 0 } });
  /** The Kafka error type behind a kafkajs failure (or its first aggregated one). */
  const errorType = (err: unknown): string => {
    const e = err as { type?: string; errors?: { type?: string }[]; message?: string };
    return e.type ?? e.errors?.[0]?.type ?? String(e.message);
  };

  it('refuses the build producing to another topic (injecting request logs)', async () => {
    const producer = raw(kafka.auth!.build, 'build-other').producer();
    await producer.connect();
    try {
      const failure = await producer.send({ topic: OTHER, messages: [{ key: 'x', value: 'forged request log' }] }).then(
        () => 'sent',
        (err: unknown) => errorType(err),
      );
      expect(failure).toMatch(/TOPIC_AUTHORIZATION_FAILED|authoriz/i);
    } finally {
      await producer.disconnect();
    }
  });

  it('refuses the build creating a topic of its own', async () => {
    const admin = raw(kafka.auth!.build, 'build-create').admin();
    await admin.connect();
    try {
      const failure = await admin.createTopics({ topics: [{ topic: `new-${randomBytes(3).toString('hex')}` }] }).then(
        () => 'created',
        (err: unknown) => errorType(err),
      );
      expect(failure).toBe('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await admin.disconnect();
    }
  });

  /** Consumes TOPIC as the build in `groupId`; the Kafka error it ends with, and what it read. */
  async function consumeAsBuild(groupId: string): Promise<{ outcome: string; got: string[] }> {
    const consumer = raw(kafka.auth!.build, 'build-reader').consumer({ groupId, retry: { retries: 0 } });
    const got: string[] = [];
    const crashed = new Promise<string>((resolve) => consumer.on(consumer.events.CRASH, (e) => resolve(errorType(e.payload.error))));
    try {
      await consumer.connect();
      const outcome = await consumer
        .subscribe({ topic: TOPIC, fromBeginning: true })
        .then(() => consumer.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) }))
        .then(
          () => crashed,
          (err: unknown) => errorType(err),
        );
      return { outcome, got };
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  it("refuses the build consuming the build-events topic (reading every tenant's log): no consumer group", async () => {
    // kafkajs reports the refused FindCoordinator (GROUP_AUTHORIZATION_FAILED) as no coordinator found.
    const { outcome, got } = await consumeAsBuild(`snoop-${randomBytes(3).toString('hex')}`);
    expect(outcome).toMatch(/GROUP_AUTHORIZATION_FAILED|group coordinator/i);
    expect(got).toEqual([]);
  });

  it('refuses the build reading the topic even in a consumer group it were allowed (no READ on the topic)', async () => {
    const group = `granted-${randomBytes(3).toString('hex')}`;
    const admin = raw(kafka.auth!.platform, 'platform-group-acl').admin();
    await admin.connect();
    await admin.createAcls({
      acl: [
        {
          resourceType: AclResourceTypes.GROUP,
          resourceName: group,
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: `User:${kafka.auth!.build.username}`,
          host: '*',
          operation: AclOperationTypes.READ,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
    });
    await admin.disconnect();
    const { outcome, got } = await consumeAsBuild(group);
    expect(outcome).toMatch(/TOPIC_AUTHORIZATION_FAILED|not authorized/i);
    expect(got).toEqual([]);
  });

  it('refuses a wrong password for the build user', async () => {
    await expect(bus({ username: 'build', password: 'guessed' }, 'build-guess').publish(TOPIC, [{ key: 'x', value: 'v' }])).rejects.toThrow(
      /SASL|authentication/i,
    );
  });
});
