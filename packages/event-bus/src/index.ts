export type { EventBus, BusMessage, Subscription, SubscribeOptions, BatchHandler } from './event-bus.ts';
export { createInProcessEventBus } from './in-process.ts';
export { createPipeEventBus, readPipeMessages, readPipeBatches, publishFrames, PIPE_FD } from './pipe.ts';
export { createKafkaEventBus, type KafkaEventBusOptions, type KafkaBusLog } from './kafka.ts';
export { createKafkaEventBusFromSettings } from './from-settings.ts';
export { deploymentEventKey, signBuildEvent, verifyBuildEvent, platformEventSigner, type SignatureVerdict } from './signing.ts';
export { grantBuildProducer } from './kafka-acls.ts';
