import { BUILD_EVENTS_TOPIC, REQUEST_LOGS_TOPIC, WRITER_APPLIED_TOPIC, type KafkaSettings } from '@platform/contracts';
import { createKafkaEventBus, type KafkaBusLog } from './kafka.ts';
import type { EventBus } from './event-bus.ts';

/** A Kafka bus from a service's config: the topic names the code uses map to KAFKA_TOPIC_LOGS / KAFKA_TOPIC_REQUESTS. */
export function createKafkaEventBusFromSettings(settings: KafkaSettings, clientId: string, log?: KafkaBusLog): EventBus {
  return createKafkaEventBus({
    brokers: settings.brokers,
    clientId,
    ssl: settings.ssl,
    ...(settings.caFile ? { caFile: settings.caFile } : {}),
    ...(settings.sasl ? { sasl: settings.sasl } : {}),
    topicNames: {
      [BUILD_EVENTS_TOPIC]: settings.topics.buildEvents,
      [REQUEST_LOGS_TOPIC]: settings.topics.requestLogs,
      // Named after the build-events topic, so whoever renames that one gets a pair of their own.
      [WRITER_APPLIED_TOPIC]: `${settings.topics.buildEvents}-applied`,
    },
    ...(log ? { log } : {}),
  });
}
