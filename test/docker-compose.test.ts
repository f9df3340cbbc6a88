import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '@platform/api-server';
import { loadProxyConfig } from '@platform/s3-reverse-proxy';

// docker-compose.yml cannot run on the machines that test this project (no Docker); its
// services' environments are checked against the same config schemas the services parse.
const compose = parse(readFileSync(join(import.meta.dirname, '..', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, string | number>; image?: string; build?: { dockerfile: string } }>;
};
const envOf = (service: string) => Object.fromEntries(Object.entries(compose.services[service]?.environment ?? {}).map(([k, v]) => [k, String(v)]));

describe('docker-compose.yml', () => {
  it('starts the api-server on PostgreSQL, Kafka, MinIO and the ClickHouse server', () => {
    const { drivers } = loadApiConfig(envOf('api-server'));
    expect(drivers.db).toMatchObject({ driver: 'postgres', url: expect.stringContaining('@postgres:5432/') });
    expect(drivers.bus).toMatchObject({ driver: 'kafka', kafka: { brokers: ['kafka:9092'] } });
    expect(drivers.storage).toMatchObject({ driver: 's3', endpoint: 'http://minio:9000', forcePathStyle: true, bucket: 'platform-builds' });
    expect(drivers.clickhouse).toMatchObject({ driver: 'http', url: 'http://clickhouse:8123', database: envOf('clickhouse').CLICKHOUSE_DB });
  });

  it('runs builds in containers of their own, with no fixed secret: the keys are generated once into a volume', () => {
    const api = envOf('api-server');
    expect(api).toMatchObject({
      RUNNER: 'container',
      CONTAINER_ENGINE: 'docker',
      JWT_SECRET_FILE: '/secrets/jwt-secret',
      ENV_ENCRYPTION_KEY_FILE: '/secrets/env-encryption-key',
    });
    expect(api.JWT_SECRET).toBeUndefined();
    expect(api.ENV_ENCRYPTION_KEY).toBeUndefined();
    expect(JSON.stringify(compose.services['secrets-init'])).toContain('randomBytes');
  });

  it('points the proxy at the same bucket', () => {
    const proxy = loadProxyConfig(envOf('s3-reverse-proxy'));
    expect(proxy.drivers.storage).toEqual(loadApiConfig(envOf('api-server')).drivers.storage);
    expect(proxy.drivers.kafka?.brokers).toEqual(['kafka:9092']);
    expect(proxy.API_UPSTREAM_URL).toBe('http://api-server:9000');
  });

  it('uses pinned images and a Dockerfile per service', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image && !service.build) expect(service.image, name).toMatch(/:[\w.-]*\d[\w.-]*$/);
    }
    for (const service of ['api-server', 's3-reverse-proxy', 'build-server']) {
      const dockerfile = readFileSync(join(import.meta.dirname, '..', compose.services[service]!.build!.dockerfile), 'utf8');
      expect(dockerfile, service).toMatch(/^FROM node:\d+\.\d+\.\d+-/m);
      expect(dockerfile, service).toMatch(/^USER (?!root\b)\w+$/m);
    }
  });
});
