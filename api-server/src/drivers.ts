import { readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { s3CredentialsFromEnv, type BuildTask } from '@platform/contracts';
import { parseStoreKey } from '@platform/certificates';
import { createClickHouse } from '@platform/clickhouse';
import { createPgliteDb, createPostgresDb } from '@platform/db';
import { createInProcessEventBus, createKafkaEventBusFromSettings, type EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import { createObjectStore, createStsUploadCredentials, type ObjectStore, type UploadCredentialMinter } from '@platform/object-store';
import { createContainerRunner, createEcsRunner, createLocalRunner, type Runner, type RunnerIsolation } from '@platform/runner';
import { probeSandbox } from '@platform/sandbox';
import type { ApiDeps, ApiOptions } from './api-options.ts';
import { accessOptionsFrom, githubAppFrom, type ApiConfig } from './config.ts';
import { Urls } from './urls.ts';

const require = createRequire(import.meta.url);

/** argv that runs the build-server entry point in a child process (TypeScript through tsx). */
export function localBuildServerCommand(): string[] {
  return [process.execPath, '--import', require.resolve('tsx'), require.resolve('@platform/build-server/main')];
}

/**
 * Builds every driver the config names: PGlite or PostgreSQL, a local folder or S3, the
 * in-process bus or Kafka, chDB or a ClickHouse server; builds run through the runner RUNNER names.
 * A bus or store passed in is shared (the all-in-one start runs the proxy on the same ones).
 */
export async function createDrivers(config: ApiConfig, logger: Logger, shared: { bus?: EventBus; store?: ObjectStore } = {}): Promise<ApiDeps> {
  const { drivers } = config;
  const usesDataDir = drivers.db.driver === 'pglite' || drivers.storage.driver === 'local' || drivers.clickhouse.driver === 'chdb';
  if (usesDataDir) {
    // The platform's own files: the database, the secrets, every deployment. Nobody else's to read.
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await chmod(config.dataDir, 0o700);
  }
  const bus =
    shared.bus ??
    (drivers.bus.driver === 'kafka'
      ? createKafkaEventBusFromSettings(drivers.bus.kafka, 'api-server', logger.child({ component: 'kafka' }))
      : createInProcessEventBus());
  // Before anything opens a database: a platform that cannot sandbox builds refuses open sign-up.
  const runner = await createRunner(config, bus, logger);
  const uploadCredentials = createUploadCredentials(config);
  if (config.RUNNER === 'container' && drivers.storage.driver === 's3' && !uploadCredentials) {
    logger.warn("RUNNER=container with S3 and no S3_UPLOAD_ROLE_ARN: every build gets the api-server's own S3 keys; set an upload role");
  }

  const dbLog = logger.child({ component: 'db' });
  const db =
    drivers.db.driver === 'postgres'
      ? await createPostgresDb({
          connectionString: drivers.db.url,
          maxConnections: drivers.db.maxConnections,
          applicationName: 'api-server',
          onIdleError: (err) => dbLog.warn({ err }, 'idle PostgreSQL connection failed; it will be replaced'),
        })
      : await createPgliteDb({ dataDir: drivers.db.dataDir, ...(drivers.db.templateCacheDir ? { templateCacheDir: drivers.db.templateCacheDir } : {}) });
  return {
    db,
    store: shared.store ?? createObjectStore(drivers.storage),
    bus,
    clickhouse: createClickHouse(drivers.clickhouse),
    runner,
    logger,
    ...(uploadCredentials ? { uploadCredentials } : {}),
  };
}

/** @deprecated The drivers follow the config now; use `createDrivers`. */
export const createEmbeddedDrivers = createDrivers;

/**
 * What the local runner's builds get on this host, from a probe (about 20 ms): bubblewrap with
 * a uid per build, egress through slirp4netns behind a firewall, cgroup limits and a capped
 * disk where each is available. Without bubblewrap the platform runs in single-user mode, and
 * refuses configurations that would let a second account in.
 */
export async function localIsolation(config: ApiConfig): Promise<{ sandbox: LocalSandbox; isolation: RunnerIsolation }> {
  const probe =
    config.SANDBOX === 'off'
      ? { isolation: 'none' as const, problems: ['the sandbox is switched off (SANDBOX=off)'] }
      : await probeSandbox({ path: config.PATH, uid: LOCAL_UID_BASE });
  if (probe.isolation === 'none') {
    const why = probe.problems.join('; ');
    if (config.SANDBOX === 'required') throw new Error(`invalid configuration: SANDBOX: required, but builds cannot be sandboxed here: ${why}`);
    if (config.ALLOW_SIGNUP === true) {
      throw new Error(
        `invalid configuration: ALLOW_SIGNUP: open sign-up needs the build sandbox, which cannot run here (${why}); use RUNNER=container, or leave ALLOW_SIGNUP unset for single-user mode`,
      );
    }
    return {
      sandbox: { isolation: 'none', network: 'egress', diskBytes: config.BUILD_DISK },
      isolation: {
        singleUser: true,
        summary: `builds run unsandboxed, with the platform's own user: ${why}. Single-user mode: sign-up is closed once the first account exists`,
        problems: probe.problems,
      },
    };
  }
  const sandbox: LocalSandbox = {
    isolation: 'bubblewrap',
    network: probe.egress ? 'egress' : 'none',
    memoryBytes: config.BUILD_MEMORY,
    pids: config.BUILD_PIDS_LIMIT,
    cpuSeconds: config.BUILD_CPU_SECONDS,
    diskBytes: config.BUILD_DISK,
    ...(config.BUILD_CPUS !== undefined ? { cpus: config.BUILD_CPUS } : {}),
  };
  const parts = [
    probe.uidPerBuild ? 'a uid per build' : "the platform's uid inside the namespaces",
    probe.egress ? 'internet egress only' : 'no network',
    probe.limits ? 'memory, process and CPU limits' : 'no cgroup limits',
  ];
  return { sandbox, isolation: { singleUser: false, summary: `builds run in a bubblewrap sandbox (${parts.join(', ')})`, problems: probe.problems } };
}

type LocalSandbox = Parameters<typeof createLocalRunner>[0]['sandbox'];
/** Builds on the local runner get uids from here up, one per running build. */
const LOCAL_UID_BASE = 100_000;

/** The runner RUNNER names. Its events come back through `bus` (local, container) or the task's own transport (ECS). */
export async function createRunner(config: ApiConfig, bus: EventBus, logger: Logger): Promise<Runner> {
  const log = logger.child({ component: `${config.RUNNER}-runner` });
  const onDiagnostic = (line: string) => log.debug(line);
  const ecsCredentials = s3CredentialsFromEnv(config);
  switch (config.RUNNER) {
    case 'local': {
      const { sandbox, isolation } = await localIsolation(config);
      if (isolation.singleUser || isolation.problems.length > 0) log.warn({ problems: isolation.problems }, isolation.summary);
      await prepareScratchRoot(config.scratchDir);
      return createLocalRunner({
        command: localBuildServerCommand(),
        scratchRoot: config.scratchDir,
        eventBus: bus,
        onDiagnostic,
        sandbox,
        isolation,
        uidBase: LOCAL_UID_BASE,
        inheritedEnv: { PATH: config.PATH, ...(config.LANG ? { LANG: config.LANG } : {}), ...(config.TZ ? { TZ: config.TZ } : {}) },
      });
    }
    case 'container':
      return createContainerRunner({
        engine: config.CONTAINER_ENGINE,
        enginePath: config.PATH,
        image: config.CONTAINER_IMAGE,
        limits: {
          cpus: config.CONTAINER_CPUS,
          memory: config.CONTAINER_MEMORY,
          pids: config.CONTAINER_PIDS_LIMIT,
          scratchSize: config.CONTAINER_SCRATCH_SIZE,
        },
        ...(config.CONTAINER_NETWORK ? { network: config.CONTAINER_NETWORK } : {}),
        gitPath: config.PATH,
        eventBus: bus,
        onDiagnostic,
      });
    case 'ecs':
      return createEcsRunner({
        client: {
          region: config.AWS_REGION ?? 'us-east-1',
          ...(config.ECS_ENDPOINT ? { endpoint: config.ECS_ENDPOINT } : {}),
          ...(ecsCredentials ? { credentials: ecsCredentials } : {}),
        },
        cluster: config.ECS_CLUSTER!,
        taskDefinition: config.ECS_TASK_DEFINITION!,
        containerName: config.ECS_CONTAINER_NAME,
        ...(config.ECS_CAPACITY_PROVIDER ? { capacityProvider: config.ECS_CAPACITY_PROVIDER } : { launchType: config.ECS_LAUNCH_TYPE ?? 'FARGATE' }),
        subnets: config.ECS_SUBNETS,
        securityGroups: config.ECS_SECURITY_GROUPS,
        assignPublicIp: config.ECS_ASSIGN_PUBLIC_IP,
      });
  }
}

/**
 * The local runner's scratch root: the platform's own folder (not a symlink, not someone
 * else's), which every build's uid may pass through but nobody may list.
 */
export async function prepareScratchRoot(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.()) {
    throw new Error(`invalid configuration: BUILD_SCRATCH_DIR: ${dir} must be a folder of the platform's own user (not a symlink)`);
  }
  await chmod(dir, 0o711);
}

/**
 * Free bytes for builds: the least of the disks of the local runner's scratch folder and of
 * DATA_DIR (where a local store takes their output), for the scheduler's low-disk pause.
 */
export function buildFreeSpace(dirs: readonly string[]): () => Promise<number> {
  return async () => {
    const free = await Promise.all(
      dirs.map((dir) =>
        statfs(dir).then(
          (s) => s.bavail * s.bsize,
          () => undefined,
        ),
      ),
    );
    const known = free.filter((n): n is number => n !== undefined);
    if (known.length === 0) throw new Error(`cannot read the free space of ${dirs.join(', ')}`);
    return Math.min(...known);
  };
}

/** Where the runner runs the build-server; it decides what the task must carry. */
export type RunnerKind = ApiConfig['RUNNER'];

/**
 * Storage and transport for the build task, from the same config as the api-server's own
 * drivers. The local and container runners relay the build's events from its pipe onto the
 * bus, and hand it the S3 keys it has no role for (the build-server keeps them from user
 * commands); an ECS task publishes to Kafka itself and gets S3 access from its task role.
 */
export function buildTaskSettings(config: ApiConfig, runner: RunnerKind): Pick<BuildTask, 'storage' | 'transport'> {
  const { storage, bus } = config.drivers;
  // With an upload role, the scheduler mints each build's keys: the api-server's own never go.
  const storageForBuilds = storage.driver === 's3' && config.S3_UPLOAD_ROLE_ARN ? withoutCredentials(storage) : storage;
  if (runner !== 'ecs') return { storage: storageForBuilds, transport: { driver: 'pipe' } };
  if (bus.driver !== 'kafka') throw new Error('builds on ECS need KAFKA_BROKERS: the in-process bus cannot reach them');
  if (storage.driver !== 's3') throw new Error('builds on ECS need S3_BUCKET: a local folder cannot be reached from them');
  const { kafka } = bus;
  if (kafka.sasl && !(config.KAFKA_BUILD_USERNAME && config.KAFKA_BUILD_PASSWORD)) {
    throw new Error("builds on ECS need KAFKA_BUILD_USERNAME and KAFKA_BUILD_PASSWORD: the platform's Kafka user is not handed to builds");
  }
  return {
    storage: withoutCredentials(storage),
    transport: {
      driver: 'kafka',
      brokers: kafka.brokers,
      clientId: 'build-server',
      ssl: kafka.ssl,
      ...(kafka.caFile ? { caFile: kafka.caFile } : {}),
      ...(kafka.sasl ? { sasl: { mechanism: kafka.sasl.mechanism, username: config.KAFKA_BUILD_USERNAME!, password: config.KAFKA_BUILD_PASSWORD! } } : {}),
      topic: kafka.topics.buildEvents,
    },
  };
}

function withoutCredentials(storage: Extract<BuildTask['storage'], { driver: 's3' }>): BuildTask['storage'] {
  const { credentials: _platformKeys, ...rest } = storage;
  return rest;
}

/** The per-deployment upload credentials (S3_UPLOAD_ROLE_ARN), minted with the api-server's own AWS credentials. */
export function createUploadCredentials(config: ApiConfig): UploadCredentialMinter | undefined {
  if (!config.S3_UPLOAD_ROLE_ARN) return undefined;
  const credentials = s3CredentialsFromEnv(config);
  return createStsUploadCredentials({
    roleArn: config.S3_UPLOAD_ROLE_ARN,
    client: {
      region: config.AWS_REGION ?? 'us-east-1',
      ...(config.STS_ENDPOINT ? { endpoint: config.STS_ENDPOINT } : {}),
      ...(credentials ? { credentials } : {}),
    },
  });
}

/**
 * The api-server's options from the config; `runner` (the one createDrivers made) tells
 * whether builds are sandboxed: where they are not, sign-up closes after the first account.
 */
export function apiOptionsFrom(config: ApiConfig, runner?: Pick<Runner, 'isolation'>): ApiOptions {
  return {
    urls: new Urls({ rootDomain: config.ROOT_DOMAIN, scheme: config.PUBLIC_SCHEME, port: config.PUBLIC_PORT ?? config.PROXY_PORT }),
    localGitRoots: config.localGitRoots,
    logRetentionDays: config.LOG_RETENTION_DAYS,
    access: accessOptionsFrom(config, runner?.isolation.singleUser ?? false),
    isolation: runner?.isolation ?? { singleUser: false, summary: 'unknown', problems: [] },
    scheduler: {
      maxConcurrentBuilds: config.MAX_CONCURRENT_BUILDS,
      ...(config.MAX_CONCURRENT_BUILDS_PER_PROJECT ? { maxConcurrentBuildsPerProject: config.MAX_CONCURRENT_BUILDS_PER_PROJECT } : {}),
      maxLaunchAttempts: config.BUILD_LAUNCH_ATTEMPTS,
      ...(config.BUILD_EVENTS_SIGNING_SECRET ? { eventSigningSecret: config.BUILD_EVENTS_SIGNING_SECRET } : {}),
      // Local builds share this machine's disk: launches pause while their scratch disk runs low.
      ...(config.RUNNER === 'local' && config.BUILD_MIN_FREE_DISK > 0
        ? { lowDisk: { minFreeBytes: config.BUILD_MIN_FREE_DISK, freeBytes: buildFreeSpace([config.scratchDir, config.dataDir]) } }
        : {}),
      taskSettings: {
        ...buildTaskSettings(config, config.RUNNER),
        localGitRoots: config.localGitRoots,
        timeoutMs: config.BUILD_TIMEOUT_MS,
      },
    },
    reconciler: { intervalMs: config.RECONCILE_INTERVAL_MS, settleMs: config.RECONCILE_SETTLE_MS },
    ...(config.BUILD_EVENTS_SIGNING_SECRET ? { buildEventsSigningSecret: config.BUILD_EVENTS_SIGNING_SECRET } : {}),
    uploads: { maxFileBytes: config.UPLOAD_MAX_FILE_BYTES, maxFiles: config.UPLOAD_MAX_FILES, maxTotalBytes: config.UPLOAD_MAX_TOTAL_BYTES },
    dataLifecycle: {
      intervalMs: config.DATA_LIFECYCLE_INTERVAL_MS,
      defaults: {
        keepPerBranch: config.RETENTION_KEEP_PER_BRANCH,
        keepRollback: config.RETENTION_KEEP_ROLLBACK,
        failedAfterDays: config.RETENTION_FAILED_DAYS,
        buildCacheCapBytes: config.BUILD_CACHE_CAP,
      },
      storageQuotaBytes: config.STORAGE_QUOTA > 0 ? config.STORAGE_QUOTA : null,
    },
    github: { app: githubAppFrom(config), reporter: { dashboardUrl: config.DASHBOARD_URL ?? `http://localhost:${config.API_PORT}` } },
    domains: domainsOptionsFrom(config),
  };
}

/** Custom domains when CERTIFICATE_STORE_KEY is set; the CA bundle is read once here. */
function domainsOptionsFrom(config: ApiConfig): ApiOptions['domains'] {
  const key = config.CERTIFICATE_STORE_KEY;
  if (!key) return undefined;
  let caBundlePem: string | undefined;
  if (config.ACME_CA_BUNDLE) {
    try {
      caBundlePem = readFileSync(config.ACME_CA_BUNDLE, 'utf8');
    } catch (err) {
      throw new Error(`invalid configuration: ACME_CA_BUNDLE: cannot read ${config.ACME_CA_BUNDLE} (${(err as NodeJS.ErrnoException).code})`);
    }
  }
  return {
    certificateStoreKey: parseStoreKey(key),
    acme: { directoryUrl: config.ACME_DIRECTORY_URL, email: config.ACME_EMAIL, caBundlePem, profile: config.ACME_PROFILE },
    dnsServers: config.DOMAIN_DNS_RESOLVER,
    cnameTarget: config.DOMAIN_CNAME_TARGET ?? `cname.${config.ROOT_DOMAIN}`,
    worker: { intervalMs: config.CERTIFICATES_INTERVAL_MS },
  };
}
