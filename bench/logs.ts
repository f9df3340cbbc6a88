/**
 * `npm run bench:logs`: build logs from the build-server's `BuildEventEmitter` through the
 * event bus and the api-server's build-event consumer into ClickHouse (chDB), and on to a
 * socket.io client through the api-server's live feed.
 *
 * 1. Throughput: BENCH_LOG_LINES lines emitted as fast as the emitter takes them; timed until
 *    the build's READY is in the DB (the writer stores every line before it applies READY).
 *    Baseline, same run: the same lines inserted straight into ClickHouse by `LogStore`.
 *    Rounds alternate baseline and pipeline; the best of each is reported.
 * 2. Latency: BENCH_LOG_RATE lines/s for BENCH_LOG_SECONDS to a subscribed socket.io client;
 *    emit-to-client time per line (the emitter stamps `ts`), p50 and p99.
 *    Baseline, same run: a bare socket.io server emitting to a client at the same rate.
 *
 * Runs on the embedded (in-process) bus, with the emitter in this process, and on Apache Kafka
 * when KAFKA_BROKERS is set or `.infra/env` has it (a topic of its own per run), with the
 * emitter in a process of its own (bench/logs-emitter.ts) as a build container would run it. Goals: ≥ 50,000 lines/s, p99 ≤ 100 ms.
 * Then, unless BENCH_KAFKA_AUTH=0, the cost of authentication and signatures: two private
 * brokers of the same size, one after the other (from the jars `npm run infra:up` caches),
 * the first PLAINTEXT with unsigned events, the second as `infra:up` runs the shared one
 * (SASL/SCRAM, the StandardAuthorizer, the build principal with its ACL) with every event
 * signed by the emitter and verified by the writer and the live feed.
 * Environment: BENCH_LOG_LINES (200000), BENCH_LOG_RATE (1000), BENCH_LOG_SECONDS (10), BENCH_ROUNDS (2), BENCH_KAFKA (auto|0), BENCH_KAFKA_AUTH (auto|0),
 * BENCH_EMITTER_BATCH (lines per emitter send in the throughput run; default: the emitter's own).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server as SocketServer } from 'socket.io';
import { io } from 'socket.io-client';
import { randomId, type BuildEvent } from '@platform/contracts';
import { BuildEventEmitter } from '@platform/build-server';
import { createClickHouse, createLogStore, migrateClickHouse, type ClickHouse } from '@platform/clickhouse';
import { createInProcessEventBus, createKafkaEventBus, deploymentEventKey, grantBuildProducer, type EventBus } from '@platform/event-bus';
import { startPrivateKafka } from '@platform/testing/kafka';
import { DeploymentsRepo } from '../api-server/src/deployments/deployments-repo.ts';
import { LogClient } from '@platform/testing/log-client';
import { startLiveHarness, type LiveHarness } from '@platform/testing/platform';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const num = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const LINES = num('BENCH_LOG_LINES', 200_000);
const RATE = num('BENCH_LOG_RATE', 1_000);
const SECONDS = num('BENCH_LOG_SECONDS', 10);
const ROUNDS = num('BENCH_ROUNDS', 2);
/** Lines per emitter send; unset: the build-server's own default. */
const EMITTER_BATCH = process.env.BENCH_EMITTER_BATCH ? num('BENCH_EMITTER_BATCH', 500) : undefined;

/** A setting from the environment, else from `.infra/env`. */
function infraSetting(name: string): string | undefined {
  if (process.env[name]) return process.env[name];
  const file = join(root, '.infra', 'env');
  if (!existsSync(file)) return undefined;
  return new RegExp(`${name}=['"]?([^'"\n]+)`).exec(readFileSync(file, 'utf8'))?.[1];
}

function kafkaBrokers(): string | undefined {
  if (process.env.BENCH_KAFKA === '0') return undefined;
  return infraSetting('KAFKA_BROKERS');
}

/** The platform's login on the shared broker, which `infra:up` runs with SASL/SCRAM. */
function sharedKafkaSasl(): { sasl?: KafkaLogin } {
  const username = infraSetting('KAFKA_USERNAME');
  const password = infraSetting('KAFKA_PASSWORD');
  if (!username || !password) return {};
  return { sasl: { mechanism: (infraSetting('KAFKA_SASL_MECHANISM') ?? 'plain') as KafkaLogin['mechanism'], username, password } };
}

const message = (i: number) => `[build] asset chunk-${i % 977}.js emitted, ${(i % 5000) / 10} kB, ${i % 90} ms since the previous one`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;

interface Figures {
  linesPerSec: number;
  rawLinesPerSec: number;
  p50: number;
  p99: number;
}

/** Same lines straight into ClickHouse, in the consumer's batch size: the ceiling the pipeline is compared with. */
async function rawInsertRate(client: ClickHouse): Promise<number> {
  const store = createLogStore(client);
  const now = Date.now();
  const deploymentId = `raw-${randomId(8)}`;
  const events: BuildEvent[] = Array.from({ length: LINES }, (_, i) => ({
    type: 'log',
    deploymentId,
    projectId: 'raw',
    seq: i + 1,
    ts: now,
    stream: 'stdout',
    message: message(i),
  }));
  const started = performance.now();
  for (let i = 0; i < events.length; i += 20_000) await store.insert(events.slice(i, i + 20_000));
  return LINES / ((performance.now() - started) / 1000);
}

/** A bare socket.io hop at the same rate: what the latency figures are compared with. */
async function socketBaseline(): Promise<{ p50: number; p99: number }> {
  const http = createServer();
  const server = new SocketServer(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const client = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'] });
  const latencies: number[] = [];
  client.on('log', (e: { ts: number }) => latencies.push(Date.now() - e.ts));
  await new Promise<void>((resolve) => client.once('connect', resolve));
  await paced((i) => server.emit('log', { seq: i, ts: Date.now(), message: message(i) }));
  await sleep(200);
  client.disconnect();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/** Calls `emit` RATE times a second for SECONDS, in 10 ms ticks, catching up after a late tick. */
async function paced(emit: (i: number) => void): Promise<void> {
  const total = RATE * SECONDS;
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
    while (sent < due) emit(++sent);
    await sleep(10);
  }
}

/**
 * Runs one build's emitter: `burst` emits LINES lines as fast as it can, `paced` RATE lines/s
 * for SECONDS; both end with READY. Resolves with the wall-clock time the emitting began and
 * how long the bus took to accept everything.
 */
type BuildSide = (ids: { deploymentId: string; projectId: string }, kind: 'burst' | 'paced') => Promise<{ startedAt: number; publishedAfterMs: number }>;

/** The emitter in this process, on the bus the api-server consumes (the embedded default has one bus). */
const inProcessBuild =
  (bus: EventBus): BuildSide =>
  async (ids, kind) => {
    const emitter = new BuildEventEmitter(bus, ids, kind === 'burst' && EMITTER_BATCH ? { batchSize: EMITTER_BATCH } : {});
    await emitter.status('BUILDING');
    const startedAt = Date.now();
    if (kind === 'burst') {
      for (let i = 1; i <= LINES; i++) {
        emitter.log('stdout', message(i));
        // Let the emitter's sends run, as a build printing this fast would.
        if (i % 20_000 === 0) await emitter.flush();
      }
    } else {
      await paced((i) => emitter.log('stdout', message(i)));
    }
    await emitter.status('READY');
    return { startedAt, publishedAfterMs: Date.now() - startedAt };
  };

type KafkaLogin = { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };

/** What the build side of a secured run gets: the build principal, and the secret its keys derive from. */
interface BuildAuth {
  sasl: { mechanism: 'scram-sha-512'; username: string; password: string };
  signingSecret: string;
}

/** The emitter in a process of its own publishing to Kafka, as a build container does. */
const childProcessBuild =
  (brokers: string[], topic: string, auth?: BuildAuth, sasl?: KafkaLogin): BuildSide =>
  async (ids, kind) => {
    const plan = {
      brokers,
      topic,
      ...(sasl ? { sasl } : {}),
      ...(auth ? { sasl: auth.sasl, signingKey: deploymentEventKey(auth.signingSecret, ids) } : {}),
      ...ids,
      kind,
      lines: LINES,
      rate: RATE,
      seconds: SECONDS,
      ...(kind === 'burst' && EMITTER_BATCH ? { batchSize: EMITTER_BATCH } : {}),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'logs-emitter.ts'), JSON.stringify(plan)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const [code] = (await once(child, 'close')) as [number | null];
    if (code !== 0) throw new Error(`the emitter process exited with code ${code}`);
    const facts = Object.assign(
      {},
      ...out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as object),
    ) as { startedAt: number; publishedAfterMs: number };
    return facts;
  };

async function measure(label: string, apiBus: EventBus, build: BuildSide, signingSecret?: string): Promise<Figures> {
  const h = await startLiveHarness({
    bus: apiBus,
    clickhouse,
    ...(signingSecret ? { replicaOptions: () => ({ buildEventsSigningSecret: signingSecret }) } : {}),
  });
  try {
    // 1. Throughput, emitter → bus → consumer → ClickHouse, in rounds alternating with the
    // raw-insert baseline (this machine's load varies): the best round of each counts.
    let linesPerSec = 0;
    let rawLinesPerSec = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const raw = await rawInsertRate(clickhouse);
      console.log(`${label}, round ${round}: baseline: ${fmt(LINES)} lines inserted straight into ClickHouse (chDB) at ${fmt(raw)} lines/s`);
      rawLinesPerSec = Math.max(rawLinesPerSec, raw);
      linesPerSec = Math.max(linesPerSec, await pipelineRate(`${label}, round ${round}`, h, build));
    }

    // 2. Latency at a steady rate, emitter → bus → live feed → socket.io client.
    const live = await h.createDeployment();
    const client = new LogClient(live.deploymentId);
    await client.connect(h.replicas[0]!.url);
    await build(live, 'paced');
    await client.ended;
    const latencies = client.received.filter((r) => r.event === 'log').map((r) => r.receivedAt - r.ts);
    if (latencies.length !== RATE * SECONDS) throw new Error(`${label}: the client got ${latencies.length} of ${RATE * SECONDS} lines`);
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    console.log(`${label}: emit-to-client latency at ${fmt(RATE)} lines/s for ${SECONDS} s: p50 ${p50} ms, p99 ${p99} ms`);
    client.disconnect();
    return { linesPerSec, rawLinesPerSec, p50, p99 };
  } finally {
    await h.close();
  }
}

async function pipelineRate(label: string, h: LiveHarness, build: BuildSide): Promise<number> {
  const deployments = new DeploymentsRepo(h.db);
  const ids = await h.createDeployment();
  const { startedAt, publishedAfterMs } = await build(ids, 'burst');
  while ((await deployments.get(ids.deploymentId))?.status !== 'READY') await sleep(5);
  const linesPerSec = LINES / ((Date.now() - startedAt) / 1000);
  const publishedAfter = publishedAfterMs;
  console.log(
    `${label}: ${fmt(LINES)} lines emitted and stored in ClickHouse at ${fmt(linesPerSec)} lines/s ` +
      `(the bus had taken them all after ${(publishedAfter / 1000).toFixed(1)} s, at ${fmt(LINES / (publishedAfter / 1000))} lines/s)`,
  );
  return linesPerSec;
}

/** One private broker's run: PLAINTEXT and unsigned, or with SASL/SCRAM, ACLs and signatures. */
async function privateKafkaRun(secured: boolean): Promise<Figures> {
  const kafka = await startPrivateKafka({ auth: secured });
  const topic = `build-events-bench-${randomId(8)}`;
  const label = secured ? 'private kafka, SASL/SCRAM + ACLs + signatures' : 'private kafka, PLAINTEXT, unsigned';
  const platform = kafka.auth ? { sasl: { mechanism: 'scram-sha-512' as const, ...kafka.auth.platform } } : {};
  const apiBus = createKafkaEventBus({ brokers: [kafka.brokers], clientId: 'bench-api', topicNames: { 'build-events': topic }, ...platform });
  try {
    let auth: BuildAuth | undefined;
    if (kafka.auth) {
      // The platform creates the topic; the build principal may then only produce to it.
      await apiBus.publish('build-events', [{ key: 'setup', value: '{}' }]);
      await grantBuildProducer({ brokers: [kafka.brokers], clientId: 'bench-acl', ...platform }, { principal: kafka.auth.build.username, topic });
      auth = { sasl: { mechanism: 'scram-sha-512', ...kafka.auth.build }, signingSecret: randomId(40) };
    }
    return await measure(label, apiBus, childProcessBuild([kafka.brokers], topic, auth), auth?.signingSecret);
  } finally {
    await apiBus.close();
    await kafka.destroy();
  }
}

/** Authentication, ACLs and signatures on vs off, on brokers of the same size in the same run. */
async function authCost(): Promise<string> {
  const off = await privateKafkaRun(false);
  const on = await privateKafkaRun(true);
  const ratio = on.linesPerSec / off.linesPerSec;
  return `auth+signatures cost: ${fmt(on.linesPerSec)} vs ${fmt(off.linesPerSec)} lines/s (${ratio.toFixed(2)}x), p99 ${on.p99} vs ${off.p99} ms`;
}

// One chDB for the whole run: chDB binds one data folder per process.
const dataDir = mkdtempSync(join(tmpdir(), 'bench-logs-'));
const clickhouse = createClickHouse({ driver: 'chdb', path: join(dataDir, 'chdb') });
await migrateClickHouse(clickhouse);
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
const base = await socketBaseline();
console.log(`baseline: bare socket.io hop at ${fmt(RATE)} msgs/s: p50 ${base.p50} ms, p99 ${base.p99} ms`);

const summary: string[] = [];
const summarise = (label: string, f: Figures) =>
  `${label} ${fmt(f.linesPerSec)} lines/s (${(f.linesPerSec / f.rawLinesPerSec).toFixed(2)}x raw insert, goal 50,000 ${f.linesPerSec >= 50_000 ? 'met' : 'MISSED'}), p50 ${f.p50} ms p99 ${f.p99} ms at ${fmt(RATE)}/s (socket.io alone p99 ${base.p99} ms, goal 100 ms ${f.p99 <= 100 ? 'met' : 'MISSED'})`;

const embedded = createInProcessEventBus();
summary.push(summarise('embedded:', await measure('embedded bus', embedded, inProcessBuild(embedded))));
await embedded.close();

const brokers = kafkaBrokers();
if (brokers) {
  const topic = `build-events-bench-${randomId(8)}`;
  const apiBus = createKafkaEventBus({ brokers: brokers.split(','), clientId: 'bench-api', topicNames: { 'build-events': topic }, ...sharedKafkaSasl() });
  try {
    // The emitter logs in as the platform here (unsigned events): the cost of the build principal and signatures is measured below.
    const { sasl } = sharedKafkaSasl();
    const build = childProcessBuild(brokers.split(','), topic, undefined, sasl);
    summary.push(summarise('kafka:', await measure(`kafka ${brokers}`, apiBus, build)));
  } finally {
    await apiBus.close();
  }
} else {
  summary.push('kafka: not run (no KAFKA_BROKERS)');
}
if (process.env.BENCH_KAFKA_AUTH !== '0') summary.push(await authCost());
await clickhouse.close();
console.log(`bench:logs ${summary.join(' | ')}`);
// kafkajs and socket.io clients may keep timers alive after closing; everything is flushed by now.
process.exit(0);
