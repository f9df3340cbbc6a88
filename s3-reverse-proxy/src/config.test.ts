import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProxyConfig, proxyOptionsFrom } from './config.ts';

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

  it('HTTPS needs the certificate store key, a valid one, and a certificate file with its key', () => {
    expect(() => loadProxyConfig({ HTTPS_PORT: '8443' })).toThrow(/CERTIFICATE_STORE_KEY: is needed with HTTPS_PORT/);
    expect(() => loadProxyConfig({ HTTPS_PORT: '8443', CERTIFICATE_STORE_KEY: 'short' })).toThrow(/CERTIFICATE_STORE_KEY: must hold 32 bytes/);
    expect(() => loadProxyConfig({ TLS_CERT_FILE: '/etc/cert.pem' })).toThrow(/TLS_CERT_FILE: and TLS_KEY_FILE go together/);
    const config = loadProxyConfig({ HTTPS_PORT: '8443', CERTIFICATE_STORE_KEY: 'ab'.repeat(32) });
    expect(config.HTTPS_PORT).toBe(8443);
    expect(config.CERTIFICATE_REFRESH_MS).toBe(60_000);
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

describe('proxy configuration', () => {
  it('has working defaults', () => {
    const config = loadProxyConfig({});
    expect(config).toMatchObject({
      PROXY_PORT: 8000,
      PROXY_WORKERS: 1,
      ROOT_DOMAIN: 'localhost',
      ROUTE_CACHE_TTL_MS: 2_000,
      API_UPSTREAM_URL: 'http://127.0.0.1:9000',
    });
    expect(proxyOptionsFrom(config)).toMatchObject({ rootDomain: 'localhost', routeTtlMs: 2_000, fileCacheMaxBytes: 256 * 1024 ** 2 });
  });

  it('coerces numbers, treats empty strings as unset and accepts auto workers', () => {
    const config = loadProxyConfig({ PROXY_PORT: '8080', ROUTE_CACHE_TTL_MS: '', PROXY_WORKERS: 'auto' });
    expect(config.PROXY_PORT).toBe(8080);
    expect(config.ROUTE_CACHE_TTL_MS).toBe(2_000);
    expect(config.PROXY_WORKERS).toBeGreaterThanOrEqual(1);
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => loadProxyConfig({ PROXY_PORT: 'x' })).toThrow(/PROXY_PORT/);
    expect(() => loadProxyConfig({ ROOT_DOMAIN: 'Bad Domain' })).toThrow(/ROOT_DOMAIN/);
    expect(() => loadProxyConfig({ API_UPSTREAM_URL: 'ftp://x' })).toThrow(/API_UPSTREAM_URL/);
    expect(() => loadProxyConfig({ PROXY_WORKERS: '0' })).toThrow(/PROXY_WORKERS/);
  });
});
