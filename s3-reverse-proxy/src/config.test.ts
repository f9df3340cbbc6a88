import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProxyConfig } from './config.ts';

describe('s3-reverse-proxy config', () => {
  it('serves from the local folder by default, and from S3 when S3_BUCKET is set', () => {
    expect(loadProxyConfig({ DATA_DIR: '/srv/data' }).drivers).toEqual({ storage: { driver: 'local', dir: '/srv/data/objects' }, kafka: undefined });
    const { drivers } = loadProxyConfig({ S3_BUCKET: 'builds', AWS_REGION: 'us-east-1', S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: '1' });
    expect(drivers.storage).toEqual({ driver: 's3', bucket: 'builds', region: 'us-east-1', endpoint: 'http://minio:9000', forcePathStyle: true });
  });

  it('reads the request-log topic from the Kafka settings', () => {
    const { drivers } = loadProxyConfig({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_REQUESTS: 'requests' });
    expect(drivers.kafka?.topics.requestLogs).toBe('requests');
  });

  it('refuses a half-given setting with one line naming the variable', () => {
    expect(() => loadProxyConfig({ S3_BUCKET: 'builds' })).toThrow(/^invalid configuration: AWS_REGION: is required with S3_BUCKET/);
    expect(() => loadProxyConfig({ KAFKA_USERNAME: 'u' })).toThrow('invalid configuration: KAFKA_USERNAME: needs KAFKA_BROKERS');
  });

  it('exits non-zero at start-up with that line', () => {
    const require = createRequire(import.meta.url);
    const run = spawnSync(process.execPath, ['--import', require.resolve('tsx'), resolve(import.meta.dirname, 'main.ts')], {
      env: { PATH: process.env.PATH ?? '', S3_ENDPOINT: 'http://minio:9000' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('s3-reverse-proxy: invalid configuration: S3_ENDPOINT: needs S3_BUCKET');
  });
});
