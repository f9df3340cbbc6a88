/**
 * The build side of `bench:logs` on Kafka, in a process of its own as a build container is:
 * a `BuildEventEmitter` on a Kafka bus emits one build's lines, then READY, and prints how
 * long the bus took to accept them. Started by bench/logs.ts with a JSON plan as argv[2].
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildEventEmitter } from '@platform/build-server';
import { createKafkaEventBus } from '@platform/event-bus';

interface Plan {
  brokers: string[];
  topic: string;
  deploymentId: string;
  projectId: string;
  /** `burst`: `lines` as fast as the emitter takes them; `paced`: `rate` lines/s for `seconds`. */
  kind: 'burst' | 'paced';
  lines: number;
  rate: number;
  seconds: number;
  batchSize?: number;
  /** The build principal and the deployment's signing key, as an ECS task's BUILD_TASK carries them. */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  signingKey?: string;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as Plan;
const message = (i: number) => `[build] asset chunk-${i % 977}.js emitted, ${(i % 5000) / 10} kB, ${i % 90} ms since the previous one`;
const bus = createKafkaEventBus({
  brokers: plan.brokers,
  clientId: 'bench-build-server',
  topicNames: { 'build-events': plan.topic },
  ...(plan.sasl ? { sasl: plan.sasl } : {}),
});
const emitter = new BuildEventEmitter(
  bus,
  { deploymentId: plan.deploymentId, projectId: plan.projectId },
  { ...(plan.batchSize ? { batchSize: plan.batchSize } : {}), ...(plan.signingKey ? { signingKey: plan.signingKey } : {}) },
);

await emitter.status('BUILDING'); // connects the producer before the clock starts
const started = performance.now();
process.stdout.write(`${JSON.stringify({ startedAt: Date.now() })}\n`);
if (plan.kind === 'burst') {
  for (let i = 1; i <= plan.lines; i++) {
    emitter.log('stdout', message(i));
    if (i % 20_000 === 0) await emitter.flush();
  }
} else {
  const total = plan.rate * plan.seconds;
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * plan.rate));
    while (sent < due) emitter.log('stdout', message(++sent));
    await sleep(10);
  }
}
await emitter.status('READY');
const publishedAfterMs = performance.now() - started;
await bus.close();
process.stdout.write(`${JSON.stringify({ publishedAfterMs })}\n`);
