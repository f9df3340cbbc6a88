export interface BusMessage {
  /** Partitioning key: messages with the same key are delivered in publish order. */
  key: string;
  /** JSON text of an event from `@platform/contracts`. */
  value: string;
}

export type BatchHandler = (messages: BusMessage[]) => Promise<void>;

export interface SubscribeOptions {
  /**
   * Consumers in one group share the messages (each is handled by one of them); every group
   * gets every message. A batch counts as consumed only after the handler resolved: when it
   * throws, the same batch is retried with backoff and nothing after it is delivered meanwhile.
   */
  groupId: string;
  /** Start from the oldest retained message instead of only new ones (Kafka: for a new group). */
  fromBeginning?: boolean;
  /** Upper bound on one batch. */
  maxBatchSize?: number;
}

export interface Subscription {
  /** Stops delivering; a batch being handled completes first. */
  stop(): Promise<void>;
}

/** Build events and request logs travel on this: in process on one machine, on Kafka in production. */
export interface EventBus {
  publish(topic: string, messages: readonly BusMessage[]): Promise<void>;
  subscribe(topic: string, options: SubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  close(): Promise<void>;
}
