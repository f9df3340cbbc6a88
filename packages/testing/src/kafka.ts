/**
 * A one-node Kafka (KRaft) of the test's own, on free ports, from the jars that
 * `npm run infra:up` caches: for tests that stop and restart a broker, which must not
 * disturb the shared one other tests use.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, portOpen } from './ports.ts';
import { infraCacheDir } from './infra-env.ts';

export interface PrivateKafka {
  /** PLAINTEXT listener. */
  brokers: string;
  /** With `security`: SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) without TLS, and SASL over TLS. */
  saslPlaintext?: string;
  saslSsl?: string;
  /** PEM of the CA that signed the broker's certificate (for 127.0.0.1). */
  caFile?: string;
  /**
   * With `auth`: the only client listener (SASL_PLAINTEXT, SCRAM-SHA-512), the authorizer on
   * (KRaft's StandardAuthorizer, nothing allowed without an ACL), and its two SCRAM users:
   * `platform`, a super user, and `build`, who may do nothing until ACLs grant it.
   */
  auth?: { brokers: string; platform: KafkaUser; build: KafkaUser };
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export interface KafkaUser {
  username: string;
  password: string;
}

/** The SASL user every mechanism of a secured private broker knows. */
export const KAFKA_TEST_USER = { username: 'alice', password: 'alice-secret' };

function kafkaLibs(): string {
  const cache = infraCacheDir();
  const dirs = existsSync(cache)
    ? readdirSync(cache)
        .filter((d) => /^kafka-4\./.test(d))
        .sort()
        .reverse()
    : [];
  for (const dir of dirs) {
    const libs = join(cache, dir, 'libs');
    if (existsSync(join(libs, '.complete'))) return libs;
  }
  throw new Error(`no Kafka jars under ${cache}: run \`npm run infra:up\` once (it fetches them from Maven Central)`);
}

/** A CA and a broker certificate for 127.0.0.1 signed by it; the broker's PEM holds key and chain. */
function makeCertificates(dir: string): { caFile: string; brokerPem: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'broker.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'broker.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'broker.key', '-out', 'broker.pk8');
  const brokerPem = join(dir, 'broker.pem');
  writeFileSync(brokerPem, readFileSync(join(dir, 'broker.pk8'), 'utf8') + readFileSync(join(dir, 'broker.crt'), 'utf8'));
  return { caFile: join(dir, 'ca.pem'), brokerPem };
}

interface Ports {
  port: number;
  controllerPort: number;
  saslPort: number;
  saslSslPort: number;
}

/** The listener lines: PLAINTEXT and the controller, plus both SASL listeners with `certs`. */
function listenerProperties({ port, controllerPort, saslPort, saslSslPort }: Ports, certs?: { brokerPem: string }): string[] {
  if (!certs) {
    return [
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    ];
  }
  const { username, password } = KAFKA_TEST_USER;
  return [
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort},SASL_PLAINTEXT://127.0.0.1:${saslPort},SASL_SSL://127.0.0.1:${saslSslPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SASL_SSL://127.0.0.1:${saslSslPort}`,
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    ...['sasl_plaintext', 'sasl_ssl'].flatMap((listener) => [
      `listener.name.${listener}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`,
      `listener.name.${listener}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      `listener.name.${listener}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    ]),
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.brokerPem}`,
  ];
}

/**
 * The listener lines of a broker with authentication and authorization on: no PLAINTEXT
 * listener at all. The broker talks to its controller and to itself with SASL PLAIN as
 * `broker` (KRaft's controller cannot use SCRAM: its credentials live in the metadata it
 * serves); clients log in with SCRAM-SHA-512. `broker` and `platform` are super users.
 */
function authListenerProperties({ controllerPort, saslPort }: Ports, brokerUser: KafkaUser): string[] {
  const plain = `org.apache.kafka.common.security.plain.PlainLoginModule required username="${brokerUser.username}" password="${brokerUser.password}" user_${brokerUser.username}="${brokerUser.password}";`;
  return [
    `listeners=SASL_PLAINTEXT://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
    'listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=PLAIN',
    'sasl.mechanism.controller.protocol=PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=${plain}`,
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=${plain}`,
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=User:${brokerUser.username};User:platform`,
    'allow.everyone.if.no.acl.found=false',
  ];
}

/** server.properties of a one-node broker and controller with its data under `dir`. */
function brokerProperties(dir: string, ports: Ports, certs?: { brokerPem: string }, brokerUser?: KafkaUser): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ports.controllerPort}`,
    ...(brokerUser ? authListenerProperties(ports, brokerUser) : listenerProperties(ports, certs)),
    'controller.listener.names=CONTROLLER',
    `inter.broker.listener.name=${brokerUser ? 'SASL_PLAINTEXT' : 'PLAINTEXT'}`,
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=4000',
    // The log cleaner takes a 128 MiB dedupe buffer at start by default: half this broker's
    // heap, and the allocation that killed it now and then on a busy machine. Test topics are tiny.
    'log.cleaner.dedupe.buffer.size=16777216',
  ].join('\n')}\n`;
}

/** JVM arguments running a class from the Kafka jars. */
const javaArgs = (libs: string, args: string[]) => ['-Xmx256m', '-cp', `${libs}/*`, ...args];

/** Formats the broker's storage with a fresh cluster id (and the SCRAM users when secured). */
function formatStorage(libs: string, props: string, secured: boolean, scramUsers: readonly KafkaUser[] = []): void {
  const clusterId = execFileSync('java', javaArgs(libs, ['kafka.tools.StorageTool', 'random-uuid']), { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  const { username, password } = KAFKA_TEST_USER;
  const scram = [
    ...(secured ? ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${username},password=${password}]`]) : []),
    ...scramUsers.flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u.username},password=${u.password}]`]),
  ];
  execFileSync('java', javaArgs(libs, ['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, ...scram]), { stdio: 'pipe' });
}

/** Starts and stops the broker process; `start` resolves once its PLAINTEXT port answers. */
function brokerProcess(libs: string, props: string, logFile: string, port: number): Pick<PrivateKafka, 'start' | 'stop'> {
  let broker: ChildProcess | undefined;
  const start = async () => {
    const out = openSync(logFile, 'a');
    broker = spawn('java', ['-Xms128m', ...javaArgs(libs, ['kafka.Kafka', props])], { stdio: ['ignore', out, out] });
    const child = broker;
    const until = Date.now() + 60_000;
    while (!(await portOpen(port))) {
      if (child.exitCode !== null) throw new Error(`private Kafka exited: ${readFileSync(logFile, 'utf8').slice(-2_000)}`);
      if (Date.now() > until) throw new Error('private Kafka did not open its port within 60 s');
      await sleep(200);
    }
  };
  const stop = async () => {
    const child = broker;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM'); // a clean, controlled shutdown, as a rolling restart does
    await Promise.race([exited, sleep(30_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  };
  return { start, stop };
}

const newUser = (username: string): KafkaUser => ({ username, password: randomBytes(12).toString('hex') });

/**
 * `security`: SASL and TLS listeners beside PLAINTEXT. `auth`: SASL/SCRAM only, with the
 * authorizer on, as `npm run infra:up` runs the shared broker (see `PrivateKafka.auth`).
 */
export async function startPrivateKafka(options: { security?: boolean; auth?: boolean } = {}): Promise<PrivateKafka> {
  if (options.security && options.auth) throw new Error('startPrivateKafka: security and auth are separate setups');
  const libs = kafkaLibs();
  const dir = mkdtempSync(join(tmpdir(), 'private-kafka-'));
  const ports: Ports = { port: await freePort(), controllerPort: await freePort(), saslPort: await freePort(), saslSslPort: await freePort() };
  const props = join(dir, 'server.properties');
  const certs = options.security ? makeCertificates(dir) : undefined;
  const users = options.auth ? { broker: newUser('broker'), platform: newUser('platform'), build: newUser('build') } : undefined;
  writeFileSync(props, brokerProperties(dir, ports, certs, users?.broker));
  formatStorage(libs, props, certs !== undefined, users ? [users.platform, users.build] : []);
  const { start, stop } = brokerProcess(libs, props, join(dir, 'kafka.log'), users ? ports.saslPort : ports.port);
  await start();
  return {
    brokers: users ? `127.0.0.1:${ports.saslPort}` : `127.0.0.1:${ports.port}`,
    ...(certs ? { saslPlaintext: `127.0.0.1:${ports.saslPort}`, saslSsl: `127.0.0.1:${ports.saslSslPort}`, caFile: certs.caFile } : {}),
    ...(users ? { auth: { brokers: `127.0.0.1:${ports.saslPort}`, platform: users.platform, build: users.build } } : {}),
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
