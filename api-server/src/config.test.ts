import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { accessOptionsFrom, githubAppFrom, loadApiConfig, loadApiSecrets } from './config.ts';
import { apiOptionsFrom, buildFreeSpace, buildTaskSettings } from './drivers.ts';

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
  JWT_SECRET: 'j'.repeat(40),
  ENV_ENCRYPTION_KEY: 'ab'.repeat(32),
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
    [{ DATABASE_URL: 'postgres://db/x', ENV_ENCRYPTION_KEY: 'ab'.repeat(32) }, 'JWT_SECRET: is required with DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db/x', JWT_SECRET: 'j'.repeat(40) }, 'ENV_ENCRYPTION_KEY: is required with DATABASE_URL'],
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

  it('needs every GitHub App setting once GITHUB_APP_ID is set, and reads the key with its escapes', () => {
    expect(failure({ GITHUB_APP_ID: '12' })).toBe(
      'invalid configuration: GITHUB_APP_PRIVATE_KEY: is required with GITHUB_APP_ID (or GITHUB_APP_PRIVATE_KEY_FILE); GITHUB_APP_WEBHOOK_SECRET: is required with GITHUB_APP_ID; GITHUB_APP_CLIENT_ID: is required with GITHUB_APP_ID; GITHUB_APP_CLIENT_SECRET: is required with GITHUB_APP_ID; GITHUB_APP_SLUG: is required with GITHUB_APP_ID',
    );
    const app = githubAppFrom(
      loadApiConfig({
        GITHUB_APP_ID: '12',
        GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\\nabc\\n-----END RSA PRIVATE KEY-----',
        GITHUB_APP_WEBHOOK_SECRET: 'w'.repeat(20),
        GITHUB_APP_CLIENT_ID: 'Iv1.x',
        GITHUB_APP_CLIENT_SECRET: 'cs',
        GITHUB_APP_SLUG: 'my-app',
      }),
    );
    expect(app).toMatchObject({ appId: 12, apiUrl: 'https://api.github.com', slug: 'my-app' });
    expect(app?.privateKey).toBe('-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----');
    expect(githubAppFrom(loadApiConfig({}))).toBeNull();
  });

  it('never echoes a secret in its message', () => {
    expect(failure({ KAFKA_BROKERS: 'k:9092', KAFKA_PASSWORD: 'hunter2-secret' })).not.toContain('hunter2-secret');
  });
});

describe('build task settings', () => {
  it('hand the local runner’s child the S3 keys and the pipe; ECS tasks the build principal and no keys', () => {
    const config = loadApiConfig({ ...DISTRIBUTED, KAFKA_BUILD_USERNAME: 'builds', KAFKA_BUILD_PASSWORD: 'builds-pw' });
    expect(buildTaskSettings(config, 'local')).toEqual({ storage: config.drivers.storage, transport: { driver: 'pipe' } });
    const ecs = buildTaskSettings(config, 'ecs');
    expect(ecs.storage).not.toHaveProperty('credentials');
    expect(ecs.storage).toMatchObject({ driver: 's3', bucket: 'my-builds', endpoint: 'http://minio:9000' });
    expect(ecs.transport).toEqual({
      driver: 'kafka',
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
      clientId: 'build-server',
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'builds', password: 'builds-pw' },
      topic: 'build-logs',
    });
    expect(JSON.stringify(ecs)).not.toMatch(/"svc"|"pw"|AKIAEXAMPLE|shh/);
  });

  it("never hand an ECS task the platform's Kafka user", () => {
    expect(() => buildTaskSettings(loadApiConfig(DISTRIBUTED), 'ecs')).toThrow(/KAFKA_BUILD_USERNAME/);
  });

  it('keep the api-server’s S3 keys from every build once an upload role mints theirs', () => {
    const config = loadApiConfig({ ...DISTRIBUTED, S3_UPLOAD_ROLE_ARN: 'arn:aws:iam::123456789012:role/upload' });
    for (const runner of ['local', 'container'] as const) expect(buildTaskSettings(config, runner).storage).not.toHaveProperty('credentials');
  });

  it('require an upload role, the build principal and a signing secret for RUNNER=ecs, naming each', () => {
    const ecs = { ...DISTRIBUTED, RUNNER: 'ecs', ECS_CLUSTER: 'builds', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: 'subnet-1' };
    expect(failure(ecs)).toBe(
      'invalid configuration: S3_UPLOAD_ROLE_ARN: is required when RUNNER=ecs (builds get per-deployment upload credentials, see infra/iam/README.md); ' +
        "KAFKA_BUILD_USERNAME: is required when RUNNER=ecs and KAFKA_USERNAME is set (a build never gets the platform's Kafka user); " +
        'BUILD_EVENTS_SIGNING_SECRET: is required when RUNNER=ecs (the build principal may write the build-events topic: events must prove their deployment)',
    );
    expect(failure({ ...DISTRIBUTED, KAFKA_BUILD_USERNAME: 'builds' })).toBe(
      'invalid configuration: KAFKA_BUILD_PASSWORD: is required with KAFKA_BUILD_USERNAME',
    );
    expect(failure({ ...DISTRIBUTED, S3_UPLOAD_ROLE_ARN: 'upload' })).toMatch(/^invalid configuration: S3_UPLOAD_ROLE_ARN: must be an IAM role ARN/);
  });

  it('refuse ECS builds on drivers an ECS task cannot reach', () => {
    expect(() => buildTaskSettings(loadApiConfig({}), 'ecs')).toThrow(/KAFKA_BROKERS/);
  });
});

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
    expect(config).toMatchObject({ ACCESS_TOKEN_TTL_SECONDS: 43_200, LOGIN_RATE_LIMIT_PER_MINUTE: 10, ALLOW_PRIVATE_WEBHOOK_URLS: false, SANDBOX: 'auto' });
    expect(config.JWT_SECRET).toBeUndefined();
    // Sign-up is open where builds are sandboxed, first account only where they are not.
    expect(config.ALLOW_SIGNUP).toBeUndefined();
    expect(accessOptionsFrom(config).signup).toBe('open');
    expect(accessOptionsFrom(config, true).signup).toBe('first-account');
    expect(accessOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), ALLOW_SIGNUP: 'false' }), false).signup).toBe('closed');
    // No tenant may name a folder of this machine as its repository unless the operator says so.
    expect(config.localGitRoots).toEqual([]);
    expect(loadApiConfig({ DATA_DIR: '/srv/d', ALLOW_LOCAL_GIT: 'true' }).localGitRoots).toEqual(['/srv/d/repos']);
    expect(loadApiConfig({ DATA_DIR: '/srv/d', ALLOW_LOCAL_GIT: 'true', LOCAL_GIT_ROOTS: '/a, /b' }).localGitRoots).toEqual(['/a', '/b']);
    expect(() => loadApiConfig({ DATA_DIR: '/srv/d', LOCAL_GIT_ROOTS: '/a' })).toThrow('LOCAL_GIT_ROOTS: needs ALLOW_LOCAL_GIT=true');
    // Build limits, with units.
    expect(config).toMatchObject({ BUILD_MEMORY: 2 * 1024 ** 3, BUILD_DISK: 4 * 1024 ** 3, BUILD_PIDS_LIMIT: 1024, BUILD_CPU_SECONDS: 1800 });
    expect(loadApiConfig({ DATA_DIR: dataDir(), BUILD_MEMORY: '512m' }).BUILD_MEMORY).toBe(512 * 1024 ** 2);
    expect(() => loadApiConfig({ DATA_DIR: dataDir(), BUILD_MEMORY: 'lots' })).toThrow('BUILD_MEMORY');
    // Scratch space: a folder of its own per data folder (the same one across restarts), or the one given; a low-disk floor.
    const scratch = loadApiConfig({ DATA_DIR: '/srv/d' }).scratchDir;
    expect(scratch).toMatch(/\/platform-builds-[0-9a-f]{12}$/);
    expect(loadApiConfig({ DATA_DIR: '/srv/d' }).scratchDir).toBe(scratch);
    expect(loadApiConfig({ DATA_DIR: '/srv/e' }).scratchDir).not.toBe(scratch);
    expect(loadApiConfig({ DATA_DIR: '/srv/d', BUILD_SCRATCH_DIR: '/scratch/builds' }).scratchDir).toBe('/scratch/builds');
    expect(config.BUILD_MIN_FREE_DISK).toBe(1024 ** 3);
    expect(loadApiConfig({ DATA_DIR: dataDir(), BUILD_MIN_FREE_DISK: '0' }).BUILD_MIN_FREE_DISK).toBe(0);
    expect(() => loadApiConfig({ DATA_DIR: dataDir(), BUILD_MIN_FREE_DISK: 'some' })).toThrow('BUILD_MIN_FREE_DISK');
  });

  it('pauses local launches under the low-disk floor, measured on the scratch and data disks', async () => {
    const local = apiOptionsFrom(loadApiConfig({ DATA_DIR: dataDir() })).scheduler.lowDisk;
    expect(local?.minFreeBytes).toBe(1024 ** 3);
    expect(await local!.freeBytes()).toBeGreaterThan(0);
    expect(apiOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), BUILD_MIN_FREE_DISK: '0' })).scheduler.lowDisk).toBeUndefined();
    // A folder that does not exist (yet) is left out; none at all is an error the scheduler logs.
    expect(await buildFreeSpace([tmpdir(), '/nonexistent/scratch'])()).toBeGreaterThan(0);
    await expect(buildFreeSpace(['/nonexistent/scratch'])()).rejects.toThrow('cannot read the free space');
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
    expect(() => loadApiConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => loadApiConfig({ TRUST_PROXY: '10.0.0.0/40' })).toThrow(/TRUST_PROXY/);
  });

  it('trusts no proxy unless told which, and limits login and sign-up apart', () => {
    const access = accessOptionsFrom(loadApiConfig({ DATA_DIR: dataDir() }));
    expect(access.trustProxy).toEqual({ addresses: [], hops: 1 });
    expect(access).toMatchObject({ loginRateLimitPerMinute: 10, loginAddressRateLimitPerMinute: 100, signupRateLimitPerMinute: 10 });
    const behind = accessOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), TRUST_PROXY: '10.0.0.0/8, loopback', TRUST_PROXY_HOPS: '2' }));
    expect(behind.trustProxy).toEqual({ addresses: ['10.0.0.0/8', 'loopback'], hops: 2 });
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
    const config = loadApiConfig({
      RUNNER: 'container',
      CONTAINER_MEMORY: '512m',
      CONTAINER_CPUS: '1.5',
      CONTAINER_PIDS_LIMIT: '256',
      CONTAINER_NETWORK: '',
      MAX_CONCURRENT_BUILDS_PER_PROJECT: '1',
    });
    expect(config).toMatchObject({
      RUNNER: 'container',
      CONTAINER_MEMORY: '512m',
      CONTAINER_CPUS: 1.5,
      CONTAINER_PIDS_LIMIT: 256,
      MAX_CONCURRENT_BUILDS_PER_PROJECT: 1,
    });
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
    // An ECS task can reach neither the pipe nor a local folder: Kafka and S3 are required, by name.
    const ecs = { RUNNER: 'ecs', ECS_CLUSTER: 'builds', ECS_TASK_DEFINITION: 'build-server', ECS_SUBNETS: 'subnet-1,subnet-2' };
    expect(() => loadApiConfig(ecs)).toThrow(
      'invalid configuration: RUNNER: ecs needs KAFKA_BROKERS: an ECS task publishes its build events to Kafka; RUNNER: ecs needs S3_BUCKET: an ECS task uploads its output to S3',
    );
    const config = loadApiConfig({
      ...ecs,
      KAFKA_BROKERS: 'kafka:9092',
      S3_BUCKET: 'builds',
      AWS_REGION: 'eu-west-1',
      S3_UPLOAD_ROLE_ARN: 'arn:aws:iam::123456789012:role/upload',
      BUILD_EVENTS_SIGNING_SECRET: 's'.repeat(32),
    });
    expect(config.ECS_SUBNETS).toEqual(['subnet-1', 'subnet-2']);
    expect(buildTaskSettings(config, config.RUNNER).transport).toMatchObject({ driver: 'kafka', brokers: ['kafka:9092'] });
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

describe('custom domain settings', () => {
  // Secrets generated for the embedded default land in DATA_DIR: a scratch one per test.
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-config-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('are off without CERTIFICATE_STORE_KEY, and on with Let’s Encrypt by default when it is set', () => {
    expect(apiOptionsFrom(loadApiConfig({ DATA_DIR: dataDir() })).domains).toBeUndefined();
    const domains = apiOptionsFrom(
      loadApiConfig({
        DATA_DIR: dataDir(),
        CERTIFICATE_STORE_KEY: 'cd'.repeat(32),
        DOMAIN_DNS_RESOLVER: '127.0.0.1:8053, 1.1.1.1',
        ROOT_DOMAIN: 'apps.example',
      }),
    ).domains;
    expect(domains?.certificateStoreKey).toEqual(Buffer.from('cd'.repeat(32), 'hex'));
    expect(domains?.acme.directoryUrl).toBe('https://acme-v02.api.letsencrypt.org/directory');
    expect(domains?.dnsServers).toEqual(['127.0.0.1:8053', '1.1.1.1']);
    expect(domains?.cnameTarget).toBe('cname.apps.example');
  });

  it('refuse a bad key, email or CA bundle with a line naming the variable', () => {
    expect(() => loadApiConfig({ CERTIFICATE_STORE_KEY: 'short' })).toThrow(/CERTIFICATE_STORE_KEY: must be 32 bytes/);
    expect(() => loadApiConfig({ ACME_EMAIL: 'not-an-email' })).toThrow(/ACME_EMAIL/);
    expect(() => apiOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), CERTIFICATE_STORE_KEY: 'cd'.repeat(32), ACME_CA_BUNDLE: '/nonexistent/ca.pem' }))).toThrow(
      /ACME_CA_BUNDLE: cannot read \/nonexistent\/ca.pem/,
    );
  });
});
