import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaEnvSchema, kafkaFromEnv } from '@platform/contracts';
import { KAFKA_TEST_USER, startPrivateKafka, type PrivateKafka } from '@platform/testing/kafka';
import type { BusMessage, EventBus } from './event-bus.ts';
import { createKafkaEventBusFromSettings } from './from-settings.ts';

/** A bus configured exactly as a service would be, from the KAFKA_* variables. */
function busFromEnv(env: Record<string, string>): EventBus {
  const settings = kafkaFromEnv(kafkaEnvSchema.parse(env));
  if (!settings) throw new Error('KAFKA_BROKERS missing');
  return createKafkaEventBusFromSettings(settings, `security-test-${randomBytes(3).toString('hex')}`);
}

async function roundTrip(bus: EventBus): Promise<BusMessage[]> {
  const topic = `secure-${randomBytes(4).toString('hex')}`;
  const got: BusMessage[] = [];
  await bus.subscribe(topic, { groupId: 'readers', fromBeginning: true }, async (batch) => {
    got.push(...batch);
  });
  await bus.publish(topic, [{ key: 'dpl', value: 'hello' }]);
  const until = Date.now() + 30_000;
  while (got.length === 0 && Date.now() < until) await sleep(50);
  return got;
}

// A broker of this test's own, with SASL and TLS listeners (the shared one has neither).
describe('Kafka event bus with SASL and TLS (KAFKA_USERNAME, KAFKA_SASL_MECHANISM, KAFKA_SSL, KAFKA_CA_FILE)', () => {
  let kafka: PrivateKafka;
  const opened: EventBus[] = [];
  const open = (env: Record<string, string>) => {
    const bus = busFromEnv(env);
    opened.push(bus);
    return bus;
  };
  beforeAll(async () => {
    kafka = await startPrivateKafka({ security: true });
  });
  afterAll(async () => {
    await Promise.all(opened.map((b) => b.close().catch(() => undefined)));
    await kafka?.destroy();
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('publishes and consumes with SASL %s', async (mechanism) => {
    const bus = open({
      KAFKA_BROKERS: kafka.saslPlaintext!,
      KAFKA_USERNAME: KAFKA_TEST_USER.username,
      KAFKA_PASSWORD: KAFKA_TEST_USER.password,
      KAFKA_SASL_MECHANISM: mechanism,
    });
    expect(await roundTrip(bus)).toEqual([{ key: 'dpl', value: 'hello' }]);
  });

  it('publishes and consumes over TLS, checking the broker against the CA file', async () => {
    const bus = open({
      KAFKA_BROKERS: kafka.saslSsl!,
      KAFKA_USERNAME: KAFKA_TEST_USER.username,
      KAFKA_PASSWORD: KAFKA_TEST_USER.password,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_CA_FILE: kafka.caFile!,
    });
    expect(await roundTrip(bus)).toEqual([{ key: 'dpl', value: 'hello' }]);
  });

  it('refuses a wrong password', async () => {
    const bus = open({
      KAFKA_BROKERS: kafka.saslPlaintext!,
      KAFKA_USERNAME: KAFKA_TEST_USER.username,
      KAFKA_PASSWORD: 'wrong',
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
    });
    await expect(bus.publish('anything', [{ key: 'k', value: 'v' }])).rejects.toThrow(/SASL|authentication/i);
  });

  it('refuses a broker whose certificate the CA file did not sign', async () => {
    // TLS on, but trusting only the system CAs: the test CA's broker must be rejected.
    const bus = open({
      KAFKA_BROKERS: kafka.saslSsl!,
      KAFKA_USERNAME: KAFKA_TEST_USER.username,
      KAFKA_PASSWORD: KAFKA_TEST_USER.password,
      KAFKA_SSL: 'true',
    });
    await expect(bus.publish('anything', [{ key: 'k', value: 'v' }])).rejects.toThrow(/certificate|self.signed|SSL|TLS|connect/i);
  });
});
