// Kafka with kafkajs: keep producing while kafka-ctl.sh stops and restarts the broker,
// then read the topic back with a consumer group: every acked line must be there once.
import { Kafka, logLevel } from 'kafkajs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { check, done } from './check.mjs';

const ctl = (cmd) => promisify(execFile)('bash', [process.env.KAFKA_CTL, cmd]).then((r) => process.stderr.write(r.stderr));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kafka = new Kafka({
  clientId: 'infra-selftest',
  brokers: process.env.KAFKA_BROKERS.split(','),
  // infra:up runs the broker with SASL/SCRAM: .infra/env names the platform's user.
  ...(process.env.KAFKA_USERNAME
    ? { sasl: { mechanism: process.env.KAFKA_SASL_MECHANISM ?? 'plain', username: process.env.KAFKA_USERNAME, password: process.env.KAFKA_PASSWORD } }
    : {}),
  logLevel: logLevel.NOTHING,
  retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 30 },
});
const topic = `infra-selftest-${Date.now()}`;
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
let produced = 0,
  acked = 0,
  failed = 0,
  running = true;
const loop = (async () => {
  while (running) {
    const n = produced++;
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: 'build', value: `line-${n}` }] });
      acked++;
    } catch {
      failed++;
    }
    await sleep(5);
  }
})();
await sleep(1000);
const t0 = Date.now();
await ctl('stop');
const ackedWhileUp = acked;
await sleep(1000);
await ctl('start');
const restartMs = Date.now() - t0;
await sleep(1000);
running = false;
await loop;
await producer.disconnect();

const consumer = kafka.consumer({ groupId: `${topic}-reader` });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const seen = new Map();
await new Promise((resolve) => {
  consumer.run({
    eachMessage: async ({ message }) => {
      const v = message.value.toString();
      seen.set(v, (seen.get(v) ?? 0) + 1);
      if (seen.size >= produced) resolve();
    },
  });
  setTimeout(resolve, 20000);
});
await consumer.disconnect();
await admin.deleteGroups([`${topic}-reader`]).catch(() => {});
await admin.deleteTopics({ topics: [topic] }).catch(() => {});
await admin.disconnect();

console.error(`  produced ${produced} (${ackedWhileUp} before the stop), broker stop+start ${restartMs} ms`);
await check('no send failed across the restart', () => failed === 0);
await check('every produced line consumed', () => [...Array(produced).keys()].every((n) => seen.has(`line-${n}`)));
await check('no duplicates (idempotent producer)', () => [...seen.values()].every((c) => c === 1));
done('kafka');
