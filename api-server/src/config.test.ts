import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { accessOptionsFrom, loadApiConfig, loadApiSecrets } from './config.ts';

describe('api-server configuration: accounts and secrets', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-config-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('defaults suit the embedded default', () => {
    const config = loadApiConfig({ DATA_DIR: dataDir() });
    expect(config).toMatchObject({ ACCESS_TOKEN_TTL_SECONDS: 43_200, ALLOW_SIGNUP: true, LOGIN_RATE_LIMIT_PER_MINUTE: 10, ALLOW_PRIVATE_WEBHOOK_URLS: false });
    expect(config.JWT_SECRET).toBeUndefined();
  });

  it('generates the keys once under DATA_DIR, owner-only, and reuses them', () => {
    const config = loadApiConfig({ DATA_DIR: dataDir() });
    const first = loadApiSecrets(config);
    const second = loadApiSecrets(config);
    expect(first.envEncryptionKey).toHaveLength(32);
    expect(second.envEncryptionKey.equals(first.envEncryptionKey)).toBe(true);
    expect(Buffer.from(second.jwtSecret).equals(Buffer.from(first.jwtSecret))).toBe(true);
    const keyFile = join(config.dataDir, 'secrets', 'env-encryption-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(first.envEncryptionKey.toString('hex'));
  });

  it('takes the keys from the environment, hex or base64', () => {
    const hex = 'ab'.repeat(32);
    const fromHex = accessOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), ENV_ENCRYPTION_KEY: hex, JWT_SECRET: 'x'.repeat(32) }));
    expect(fromHex.envEncryptionKey.toString('hex')).toBe(hex);
    expect(new TextDecoder().decode(fromHex.jwtSecret)).toBe('x'.repeat(32));
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(accessOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), ENV_ENCRYPTION_KEY: b64 })).envEncryptionKey).toEqual(Buffer.alloc(32, 7));
  });

  it('refuses bad values naming the variable', () => {
    expect(() => loadApiConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
    expect(() => loadApiConfig({ ENV_ENCRYPTION_KEY: 'abcd' })).toThrow(/ENV_ENCRYPTION_KEY/);
    expect(() => loadApiConfig({ ALLOW_SIGNUP: 'maybe' })).toThrow(/ALLOW_SIGNUP/);
    expect(() => loadApiConfig({ LOGIN_RATE_LIMIT_PER_MINUTE: '0' })).toThrow(/LOGIN_RATE_LIMIT_PER_MINUTE/);
  });
});


describe('api-server config: runners and the scheduler', () => {
  it('defaults to the local runner with the scheduler and reconciler defaults', () => {
    const config = loadApiConfig({});
    expect(config).toMatchObject({
      RUNNER: 'local',
      MAX_CONCURRENT_BUILDS: 2,
      BUILD_LAUNCH_ATTEMPTS: 5,
      RECONCILE_INTERVAL_MS: 5_000,
      RECONCILE_SETTLE_MS: 5_000,
      CONTAINER_ENGINE: 'podman',
      CONTAINER_MEMORY: '2g',
      ECS_SUBNETS: [],
      ECS_ASSIGN_PUBLIC_IP: false,
    });
    expect(config.MAX_CONCURRENT_BUILDS_PER_PROJECT).toBeUndefined();
  });

  it('parses the container runner settings and treats empty values as unset', () => {
    const config = loadApiConfig({ RUNNER: 'container', CONTAINER_MEMORY: '512m', CONTAINER_CPUS: '1.5', CONTAINER_PIDS_LIMIT: '256', CONTAINER_NETWORK: '', MAX_CONCURRENT_BUILDS_PER_PROJECT: '1' });
    expect(config).toMatchObject({ RUNNER: 'container', CONTAINER_MEMORY: '512m', CONTAINER_CPUS: 1.5, CONTAINER_PIDS_LIMIT: 256, MAX_CONCURRENT_BUILDS_PER_PROJECT: 1 });
    expect(config.CONTAINER_NETWORK).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadApiConfig({ RUNNER: 'kubernetes' })).toThrow(/^invalid configuration: RUNNER: /);
    expect(() => loadApiConfig({ CONTAINER_MEMORY: 'lots' })).toThrow('invalid configuration: CONTAINER_MEMORY: must be like 512m or 2g');
    expect(() => loadApiConfig({ CONTAINER_NETWORK: 'host; rm -rf /' })).toThrow('invalid configuration: CONTAINER_NETWORK: must be a network name');
    expect(() => loadApiConfig({ MAX_CONCURRENT_BUILDS_PER_PROJECT: '0' })).toThrow(/^invalid configuration: MAX_CONCURRENT_BUILDS_PER_PROJECT: /);
    expect(() => loadApiConfig({ ECS_LAUNCH_TYPE: 'FARGATE', ECS_CAPACITY_PROVIDER: 'FARGATE_SPOT' })).toThrow(
      'invalid configuration: ECS_CAPACITY_PROVIDER: cannot be combined with ECS_LAUNCH_TYPE',
    );
  });

  it('requires the cluster, task definition and subnets for RUNNER=ecs', () => {
    expect(() => loadApiConfig({ RUNNER: 'ecs', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: 'subnet-1' })).toThrow(
      'invalid configuration: ECS_CLUSTER: is required when RUNNER=ecs',
    );
    expect(() => loadApiConfig({ RUNNER: 'ecs', ECS_CLUSTER: 'builds', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: ' , ' })).toThrow(
      'invalid configuration: ECS_SUBNETS: is required when RUNNER=ecs (comma-separated subnet ids)',
    );
    // Until the distributed drivers are configured, a complete ECS setup is still refused, by name.
    expect(() => loadApiConfig({ RUNNER: 'ecs', ECS_CLUSTER: 'builds', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: 'subnet-1,subnet-2' })).toThrow(
      'invalid configuration: RUNNER: ecs needs the Kafka build-event transport',
    );
  });
});
