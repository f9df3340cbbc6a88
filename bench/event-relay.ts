/**
 * `npm run bench:relay`: how fast a build's events reach Kafka through the runner's pipe
 * relay. Baseline: one publish per line (what the relay did first); measured: the batched
 * relay (`readPipeBatches` + `publishFrames`), in the same run, on the broker that
 * KAFKA_BROKERS (or `.infra/env` from `npm run infra:up`) names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createKafkaEventBus, createPipeEventBus, publishFrames, readPipeBatches, readPipeMessages } from '@platform/event-bus';

function kafkaBrokers(): string {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const file = new URL('../.infra/env', import.meta.url);
  const match = existsSync(file) ? /KAFKA_BROKERS=(\S+)/.exec(readFileSync(file, 'utf8')) : null;
  if (!match) throw new Error('KAFKA_BROKERS is not set: run `npm run infra:up` first');
  return match[1]!;
}

/** The platform's login on the shared broker (`infra:up` runs it with SASL/SCRAM), from the environment or `.infra/env`. */
function kafkaSasl(): { sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } } {
  const file = new URL('../.infra/env', import.meta.url);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const setting = (name: string) => process.env[name] ?? new RegExp(`${name}=(\\S+)`).exec(text)?.[1];
  const [username, password] = [setting('KAFKA_USERNAME'), setting('KAFKA_PASSWORD')];
  if (!username || !password) return {};
  return { sasl: { mechanism: (setting('KAFKA_SASL_MECHANISM') ?? 'plain') as 'plain', username, password } };
}

const LINES = 5_000;
const bus = createKafkaEventBus({ brokers: kafkaBrokers().split(','), clientId: 'bench-relay', ...kafkaSasl() });

/** Lines per second from the build's pipe to acknowledged Kafka writes. */
async function relay(batched: boolean): Promise<number> {
  const topic = `bench-relay-${batched ? 'batched' : 'single'}-${Date.now()}`;
  await bus.publish(topic, [{ key: 'warm-up', value: '{}' }]);
  const wire = new PassThrough();
  const pipe = createPipeEventBus({ stream: wire });
  const started = performance.now();
  const build = (async () => {
    for (let n = 1; n <= LINES; n++) {
      const event = {
        type: 'log',
        deploymentId: 'bench',
        projectId: 'bench',
        seq: n,
        ts: Date.now(),
        stream: 'stdout',
        message: `line ${n} of a build log, about as long as npm prints them`,
      };
      await pipe.publish(topic, [{ key: 'bench', value: JSON.stringify(event) }]);
    }
    await pipe.close();
  })();
  if (batched) for await (const frames of readPipeBatches(wire)) await publishFrames(bus, frames);
  else for await (const frame of readPipeMessages(wire)) await bus.publish(frame.topic, [{ key: frame.key, value: frame.value }]);
  await build;
  return LINES / ((performance.now() - started) / 1_000);
}

try {
  const baseline = await relay(false);
  const batched = await relay(true);
  console.log(`one publish per line (baseline): ${Math.round(baseline)} lines/s`);
  console.log(`batched relay:                   ${Math.round(batched)} lines/s`);
  console.log(
    `relay ${LINES} build log lines to Kafka: batched ${Math.round(batched)}/s vs ${Math.round(baseline)}/s one per line = ${(batched / baseline).toFixed(1)}x`,
  );
} finally {
  await bus.close();
}
