import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaConfig,
  type LogEntry,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { BatchHandler, BusMessage, EventBus, SubscribeOptions, Subscription } from './event-bus.ts';

/** The subset of a pino logger this driver writes to. */
export interface KafkaBusLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface KafkaEventBusOptions {
  /** `host:port` of one or more brokers (KAFKA_BROKERS). */
  brokers: readonly string[];
  clientId: string;
  /** TLS to the brokers; with `caFile`, the brokers' certificates are checked against that CA. */
  ssl?: boolean;
  caFile?: string;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /**
   * Kafka topic for each topic name the code uses (`build-events` → KAFKA_TOPIC_LOGS, ...).
   * Names not listed are used as they are.
   */
  topicNames?: Readonly<Record<string, string>>;
  /** Partitions of a topic this bus creates. Default 3. */
  numPartitions?: number;
  /** Replicas of a topic this bus creates. Default: the broker's `default.replication.factor`. */
  replicationFactor?: number;
  /** Backoff between attempts of a failing handler on the same batch. Default 200 ms doubling to 30 s. */
  handlerRetry?: { initialMs?: number; maxMs?: number };
  log?: KafkaBusLog;
}

/** One send stays under the broker's default `message.max.bytes` (1 MB) for its record batch. */
const MAX_SEND_BYTES = 900_000;

/**
 * The production driver, on Apache Kafka through kafkajs.
 *
 * Publishing: an idempotent producer (acks from all in-sync replicas, one request in flight,
 * so a retried send neither duplicates nor reorders); messages are keyed, so all messages of
 * one key land on one partition in publish order. Topics are created when missing.
 *
 * Consuming: one kafkajs consumer per subscription, in the subscription's group. A batch's
 * offsets are resolved and committed only after the handler resolved; when it throws, the
 * same messages are handed to it again with backoff (heartbeating meanwhile) and nothing
 * after them is delivered, so no message is skipped. If the consumer loses its partitions
 * meanwhile, the uncommitted batch goes to their new owner. Broker outages are retried by
 * kafkajs; a consumer that kafkajs gives up on is replaced, so a subscription outlives them.
 */
export function createKafkaEventBus(options: KafkaEventBusOptions): EventBus {
  return new KafkaEventBus(options);
}

class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private readonly topicsReady = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(private readonly options: KafkaEventBusOptions) {
    this.kafka = new Kafka(kafkaClientConfig(options));
  }

  async publish(name: string, messages: readonly BusMessage[]): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    if (messages.length === 0) return;
    const topic = this.topicName(name);
    await this.ensureTopic(topic);
    const p = await this.getProducer();
    // In order, one bounded send after another: each send is acknowledged before the next.
    for (const chunk of chunkBySize(messages)) {
      await p.send({ topic, acks: -1, messages: chunk.map((m) => ({ key: m.key, value: m.value })) });
    }
  }

  async subscribe(name: string, opts: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    if (this.closed) throw new Error('event bus is closed');
    const topic = this.topicName(name);
    await this.ensureTopic(topic);
    const log = this.options.log;
    const subscription = new KafkaSubscription(this.kafka, topic, opts, handler, {
      admin: () => this.getAdmin(),
      retryInitialMs: this.options.handlerRetry?.initialMs ?? 200,
      retryMaxMs: this.options.handlerRetry?.maxMs ?? 30_000,
      ...(log ? { log } : {}),
      onStopped: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (err) {
      await subscription.stop();
      throw err;
    }
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Consumers first (each finishes the batch in hand), then the producer: every send was awaited.
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    const clients = await Promise.allSettled([this.producer, this.admin].filter((c) => c !== undefined));
    await Promise.all(clients.map((c) => (c.status === 'fulfilled' ? c.value.disconnect() : undefined)));
  }

  private topicName(name: string): string {
    return this.options.topicNames?.[name] ?? name;
  }

  private getProducer(): Promise<Producer> {
    this.producer ??= connectOnce(
      this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        // A publish waits out a broker outage (an attempt at least every 10 s) instead of
        // failing: a build's events are never dropped, and the idempotent producer's
        // sequence numbers keep retried sends from duplicating.
        retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: Number.MAX_SAFE_INTEGER },
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
      () => (this.producer = undefined),
    );
    return this.producer;
  }

  private getAdmin(): Promise<Admin> {
    this.admin ??= connectOnce(this.kafka.admin(), () => (this.admin = undefined));
    return this.admin;
  }

  private ensureTopic(topic: string): Promise<void> {
    let ready = this.topicsReady.get(topic);
    if (!ready) {
      ready = this.createTopicIfMissing(topic);
      this.topicsReady.set(topic, ready);
      ready.catch(() => this.topicsReady.delete(topic));
    }
    return ready;
  }

  private async createTopicIfMissing(topic: string): Promise<void> {
    const a = await this.getAdmin();
    // Look first: managed clusters often let clients use topics but not create them.
    if (!(await a.listTopics()).includes(topic)) {
      const created = await a.createTopics({
        topics: [{ topic, numPartitions: this.options.numPartitions ?? 3, replicationFactor: this.options.replicationFactor ?? -1 }],
      });
      if (created) this.options.log?.info({ topic }, 'created kafka topic');
    }
    await waitForLeaders(a, topic);
  }
}

/** Connects `client`; a failed attempt calls `forget` so the next call tries again with a new client. */
function connectOnce<T extends { connect(): Promise<void> }>(client: T, forget: () => void): Promise<T> {
  return client.connect().then(
    () => client,
    (err: unknown) => {
      forget();
      throw err;
    },
  );
}

class KafkaSubscription implements Subscription {
  private consumer: Consumer | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly opts: SubscribeOptions,
    private readonly handler: BatchHandler,
    private readonly env: {
      admin: () => Promise<Admin>;
      retryInitialMs: number;
      retryMaxMs: number;
      log?: KafkaBusLog;
      onStopped: () => void;
    },
  ) {}

  async start(): Promise<void> {
    if (!this.opts.fromBeginning) await this.startNewGroupAtEnd();
    await this.runConsumer();
  }

  /**
   * kafkajs resolves "latest" for a partition without a committed offset at the first fetch
   * after joining, and again after every rebalance until something is committed: messages
   * published in between would be skipped. So a group that has never committed starts where
   * each partition ended when subscribe was called, committed before any member joins.
   */
  private async startNewGroupAtEnd(): Promise<void> {
    const admin = await this.env.admin();
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await admin.fetchOffsets({ groupId: this.kafkaGroupId, topics: [this.topic] });
        const missing = new Set(committed.flatMap((t) => t.partitions.filter((p) => p.offset === '-1').map((p) => p.partition)));
        if (missing.size === 0) return;
        const ends = (await admin.fetchTopicOffsets(this.topic)).filter((p) => missing.has(p.partition));
        await admin.setOffsets({ groupId: this.kafkaGroupId, topic: this.topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
        return;
      } catch (err) {
        // Another member is in the group (it may be committing these right now), or a fresh
        // broker is still electing leaders and loading its group coordinator (NOT_COORDINATOR,
        // COORDINATOR_LOAD_IN_PROGRESS, NOT_LEADER): look again, then give up.
        if (attempt >= 10) {
          this.env.log?.warn({ err, groupId: this.kafkaGroupId, topic: this.topic }, 'could not set the start offsets of a new consumer group');
          return;
        }
        await sleep(200 * attempt);
      }
    }
  }

  /**
   * A group is a group of one topic, as in the in-process bus: the Kafka group id names both.
   * kafkajs assumes every member of a group subscribes to the same topics, so two topics
   * sharing one Kafka group would steal each other's partitions.
   */
  private get kafkaGroupId(): string {
    return `${this.opts.groupId}.${this.topic}`;
  }

  private async runConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.kafkaGroupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // Short long-polls: stop() waits for the fetch in flight.
      maxWaitTimeInMs: 500,
      retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    });
    this.consumer = consumer;

    let joined!: () => void;
    const firstJoin = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.restarts = 0;
      joined();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.env.log?.error({ err: payload.error, groupId: this.kafkaGroupId, topic: this.topic, restart: payload.restart }, 'kafka consumer crashed');
      // kafkajs restarts a consumer after retriable errors only; replace it after any other.
      if (!payload.restart) this.scheduleReplacement(consumer);
    });

    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: this.opts.fromBeginning ?? false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    // Resolve once the consumer is in the group (bounded: a slow broker must not block start-up forever).
    await Promise.race([firstJoin, sleep(30_000, undefined, { ref: false })]);
  }

  private scheduleReplacement(dead: Consumer): void {
    if (this.stopped || this.consumer !== dead) return;
    const delay = Math.min(30_000, 1_000 * 2 ** Math.min(this.restarts++, 5));
    this.restartTimer = setTimeout(() => {
      void (async () => {
        await dead.disconnect().catch(() => undefined);
        if (this.stopped) return;
        try {
          await this.runConsumer();
        } catch (err) {
          this.env.log?.error({ err, groupId: this.kafkaGroupId, topic: this.topic }, 'kafka consumer could not restart; trying again');
          this.scheduleReplacement(this.consumer!);
        }
      })();
    }, delay);
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    uncommittedOffsets,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const max = Math.max(1, this.opts.maxBatchSize ?? 1_000);
    for (let i = 0; i < batch.messages.length; i += max) {
      const slice = batch.messages.slice(i, i + max);
      const messages: BusMessage[] = slice.map((m) => ({ key: m.key?.toString('utf8') ?? '', value: m.value?.toString('utf8') ?? '' }));
      for (let failures = 0; ; ) {
        // Stopping, or the partition moved to another member: leave the rest unresolved for whoever reads next.
        if (!isRunning() || isStale()) return;
        try {
          await this.handler(messages);
          break;
        } catch (err) {
          failures++;
          const delay = Math.min(this.env.retryMaxMs, this.env.retryInitialMs * 2 ** Math.min(failures - 1, 20));
          this.env.log?.warn(
            { err, groupId: this.kafkaGroupId, topic: this.topic, partition: batch.partition, offset: slice[0]!.offset, failures, retryInMs: delay },
            'event handler failed; retrying the same batch',
          );
          await this.backoff(delay, heartbeat, isRunning);
        }
      }
      resolveOffset(slice[slice.length - 1]!.offset);
      await commitOffsetsIfNecessary(uncommittedOffsets());
    }
  }

  /** Waits `ms`, heartbeating so the group keeps this member (and its partitions) meanwhile. */
  private async backoff(ms: number, heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<void> {
    const until = Date.now() + ms;
    while (isRunning() && Date.now() < until) {
      await sleep(Math.min(500, until - Date.now()));
      await heartbeat();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    try {
      await this.consumer?.disconnect();
    } finally {
      this.env.onStopped();
    }
  }
}

export function kafkaClientConfig(options: KafkaEventBusOptions): KafkaConfig {
  const log = options.log;
  const sasl: SASLOptions | undefined = options.sasl
    ? ({ mechanism: options.sasl.mechanism, username: options.sasl.username, password: options.sasl.password } as SASLOptions)
    : undefined;
  return {
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...(options.ssl || options.caFile ? { ssl: options.caFile ? { ca: [readFileSync(options.caFile, 'utf8')] } : true } : {}),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    // Rides out a broker restart or a leader election (about a minute of attempts, capped at 10 s apart).
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 },
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return;
      const { message, ...extra } = entry.log;
      const fields = { kafka: entry.namespace, ...extra };
      // kafkajs logs every request answered "the group is rebalancing" as an error; it is routine.
      if (/rebalanc/i.test(String(extra.error ?? ''))) log.debug(fields, message);
      else if (entry.level === logLevel.ERROR) log.error(fields, message);
      else if (entry.level === logLevel.WARN) log.warn(fields, message);
      else if (entry.level === logLevel.INFO) log.info(fields, message);
      else log.debug(fields, message);
    },
  };
}

/**
 * Until every partition of the topic has a leader. (kafkajs' own `waitForLeaders` gives up on
 * the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers for a moment after creating a topic.)
 */
async function waitForLeaders(admin: Admin, topic: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    if (Date.now() > until) throw new Error(`kafka topic ${topic} has no leader for every partition after ${timeoutMs} ms`);
    await sleep(100);
  }
}

function chunkBySize(messages: readonly BusMessage[]): BusMessage[][] {
  const chunks: BusMessage[][] = [];
  let current: BusMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = Buffer.byteLength(m.key) + Buffer.byteLength(m.value) + 64;
    if (current.length > 0 && bytes + size > MAX_SEND_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
