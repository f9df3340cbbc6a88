import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from './config.ts';
import { buildTaskSettings } from './drivers.ts';

const DISTRIBUTED = {
  DATABASE_URL: 'postgres://platform:secret@db:5432/platform',
  S3_BUCKET: 'my-builds',
  AWS_REGION: 'eu-west-1',
  S3_ENDPOINT: 'http://minio:9000',
  S3_FORCE_PATH_STYLE: 'true',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'shh',
  KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
  KAFKA_USERNAME: 'svc',
  KAFKA_PASSWORD: 'pw',
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SSL: 'true',
  KAFKA_TOPIC_LOGS: 'build-logs',
  CLICKHOUSE_HOST: 'clickhouse',
  CLICKHOUSE_DATABASE: 'vercel',
  CLICKHOUSE_USER: 'writer',
  CLICKHOUSE_PASSWORD: 'ch-pw',
};

/** The one-line message loadApiConfig throws for `env`. */
const failure = (env: Record<string, string>) => {
  try {
    loadApiConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
};

describe('api-server config', () => {
  it('picks every embedded driver when no server is configured', () => {
    const config = loadApiConfig({ DATA_DIR: '/tmp/platform-data' });
    expect(config.drivers).toEqual({
      db: { driver: 'pglite', dataDir: '/tmp/platform-data/pglite' },
      storage: { driver: 'local', dir: '/tmp/platform-data/objects' },
      bus: { driver: 'in-process' },
      clickhouse: { driver: 'chdb', path: '/tmp/platform-data/chdb' },
    });
    expect(config.API_PORT).toBe(9000);
  });

  it('picks every distributed driver from the original .env names', () => {
    const { drivers } = loadApiConfig(DISTRIBUTED);
    expect(drivers.db).toEqual({ driver: 'postgres', url: DISTRIBUTED.DATABASE_URL, maxConnections: 10 });
    expect(drivers.storage).toEqual({
      driver: 's3',
      bucket: 'my-builds',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'shh' },
    });
    expect(drivers.bus).toEqual({
      driver: 'kafka',
      kafka: {
        brokers: ['kafka-1:9092', 'kafka-2:9092'],
        ssl: true,
        sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' },
        topics: { buildEvents: 'build-logs', requestLogs: 'request-logs' },
      },
    });
    expect(drivers.clickhouse).toEqual({ driver: 'http', url: 'http://clickhouse:8123', database: 'vercel', username: 'writer', password: 'ch-pw' });
  });

  it('mixes drivers: only what is configured is distributed', () => {
    const { drivers } = loadApiConfig({ DATA_DIR: '/d', KAFKA_BROKERS: '127.0.0.1:9092', CLICKHOUSE_URL: 'https://ch.example.com:8443' });
    expect(drivers.db.driver).toBe('pglite');
    expect(drivers.storage.driver).toBe('local');
    expect(drivers.bus).toEqual({
      driver: 'kafka',
      kafka: { brokers: ['127.0.0.1:9092'], ssl: false, topics: { buildEvents: 'build-events', requestLogs: 'request-logs' } },
    });
    expect(drivers.clickhouse).toEqual({ driver: 'http', url: 'https://ch.example.com:8443', database: 'default', username: 'default', password: '' });
  });

  it('treats empty variables as unset', () => {
    const config = loadApiConfig({ DATA_DIR: '/d', DATABASE_URL: '', KAFKA_BROKERS: '', KAFKA_PASSWORD: '', S3_BUCKET: '', API_PORT: '' });
    expect(config.drivers.db.driver).toBe('pglite');
    expect(config.drivers.bus.driver).toBe('in-process');
    expect(config.API_PORT).toBe(9000);
  });

  it('turns SSL on with a CA file, and defaults SASL to PLAIN', () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'ca-')), 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const { drivers } = loadApiConfig({ KAFKA_BROKERS: 'k:9093', KAFKA_CA_FILE: ca, KAFKA_USERNAME: 'u', KAFKA_PASSWORD: 'p' });
    expect(drivers.bus).toMatchObject({ kafka: { ssl: true, caFile: ca, sasl: { mechanism: 'plain', username: 'u', password: 'p' } } });
  });

  it.each([
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_PASSWORD: 'pw' }, 'KAFKA_PASSWORD: needs KAFKA_USERNAME'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_USERNAME: 'u' }, 'KAFKA_USERNAME: needs KAFKA_PASSWORD'],
    [{ KAFKA_USERNAME: 'u', KAFKA_PASSWORD: 'p' }, 'KAFKA_USERNAME: needs KAFKA_BROKERS'],
    [{ KAFKA_TOPIC_LOGS: 'logs' }, 'KAFKA_TOPIC_LOGS: needs KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'plain' }, 'KAFKA_SASL_MECHANISM: needs KAFKA_USERNAME'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'gssapi' }, 'KAFKA_SASL_MECHANISM:'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_CA_FILE: '/no/such/ca.pem' }, 'KAFKA_CA_FILE: cannot read /no/such/ca.pem'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_SSL: 'false', KAFKA_CA_FILE: '/etc/hostname' }, 'KAFKA_CA_FILE: needs KAFKA_SSL=true'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_SSL: 'maybe' }, 'KAFKA_SSL: must be true or false'],
    [{ KAFKA_BROKERS: 'kafka' }, 'KAFKA_BROKERS: must be host:port'],
    [{ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_LOGS: 'same', KAFKA_TOPIC_REQUESTS: 'same' }, 'KAFKA_TOPIC_REQUESTS: must differ'],
    [{ S3_BUCKET: 'builds' }, 'AWS_REGION: is required with S3_BUCKET'],
    [{ S3_ENDPOINT: 'http://minio:9000' }, 'S3_ENDPOINT: needs S3_BUCKET'],
    [{ S3_FORCE_PATH_STYLE: 'true' }, 'S3_FORCE_PATH_STYLE: needs S3_BUCKET'],
    [{ S3_BUCKET: 'Not_A_Bucket', AWS_REGION: 'us-east-1' }, 'S3_BUCKET: must be an S3 bucket name'],
    [{ AWS_ACCESS_KEY_ID: 'AKIA' }, 'AWS_SECRET_ACCESS_KEY: is required with AWS_ACCESS_KEY_ID'],
    [{ AWS_SECRET_ACCESS_KEY: 'shh' }, 'AWS_ACCESS_KEY_ID: is required with AWS_SECRET_ACCESS_KEY'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL: must be a postgres:// URL'],
    [{ DATABASE_POOL_MAX: '5' }, 'DATABASE_POOL_MAX: needs DATABASE_URL'],
    [{ CLICKHOUSE_URL: 'http://a:8123', CLICKHOUSE_HOST: 'b' }, 'CLICKHOUSE_HOST: set CLICKHOUSE_URL or CLICKHOUSE_HOST, not both'],
    [{ CLICKHOUSE_PASSWORD: 'pw' }, 'CLICKHOUSE_PASSWORD: needs CLICKHOUSE_URL or CLICKHOUSE_HOST'],
    [{ CLICKHOUSE_URL: 'clickhouse:8123' }, 'CLICKHOUSE_URL: must be an http:// or https:// URL'],
  ])('refuses %j, naming the variable', (env, message) => {
    const error = failure(env);
    expect(error).toContain(message);
    expect(error.startsWith('invalid configuration: ')).toBe(true);
    expect(error).not.toContain('\n');
  });

  it('reports every problem at once, in one line', () => {
    expect(failure({ KAFKA_PASSWORD: 'pw', S3_ENDPOINT: 'http://minio:9000' })).toBe(
      'invalid configuration: S3_ENDPOINT: needs S3_BUCKET; KAFKA_PASSWORD: needs KAFKA_BROKERS',
    );
  });

  it('never echoes a secret in its message', () => {
    expect(failure({ KAFKA_BROKERS: 'k:9092', KAFKA_PASSWORD: 'hunter2-secret' })).not.toContain('hunter2-secret');
  });
});

describe('build task settings', () => {
  it('hand the local runner’s child the S3 keys and the pipe; ECS tasks the Kafka settings and no keys', () => {
    const config = loadApiConfig(DISTRIBUTED);
    expect(buildTaskSettings(config, 'local')).toEqual({ storage: config.drivers.storage, transport: { driver: 'pipe' } });
    const ecs = buildTaskSettings(config, 'ecs');
    expect(ecs.storage).not.toHaveProperty('credentials');
    expect(ecs.storage).toMatchObject({ driver: 's3', bucket: 'my-builds', endpoint: 'http://minio:9000' });
    expect(ecs.transport).toEqual({
      driver: 'kafka',
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
      clientId: 'build-server',
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' },
      topic: 'build-logs',
    });
  });

  it('refuse ECS builds on drivers an ECS task cannot reach', () => {
    expect(() => buildTaskSettings(loadApiConfig({}), 'ecs')).toThrow(/KAFKA_BROKERS/);
  });
});

describe('api-server start-up', () => {
  const require = createRequire(import.meta.url);
  const main = resolve(import.meta.dirname, 'main.ts');

  it('exits non-zero with one line naming the variable when a setting is half given', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-config-'));
    const run = spawnSync(process.execPath, ['--import', require.resolve('tsx'), main], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, KAFKA_BROKERS: '127.0.0.1:9092', KAFKA_PASSWORD: 'pw' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('api-server: invalid configuration: KAFKA_PASSWORD: needs KAFKA_USERNAME');
  });
});
