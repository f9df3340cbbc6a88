import { integrationEnv, sharedKafkaSasl } from '@platform/testing/infra-env';
import { describeEventBusContract } from './event-bus.contract.ts';
import { createKafkaEventBus } from './kafka.ts';

describeEventBusContract(
  'Apache Kafka via kafkajs',
  async () => {
    const { KAFKA_BROKERS } = integrationEnv('KAFKA_BROKERS');
    return {
      bus: createKafkaEventBus({
        brokers: KAFKA_BROKERS.split(','),
        clientId: 'event-bus-contract',
        ...(sharedKafkaSasl() ? { sasl: sharedKafkaSasl()! } : {}),
        handlerRetry: { initialMs: 50, maxMs: 500 },
      }),
    };
  },
  { retainsMessages: true, sharedGroups: true, deliveryTimeoutMs: 30_000 },
);
