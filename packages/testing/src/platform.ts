/**
 * The platform harness: api-server replicas (and the s3-reverse-proxy) in a fresh data
 * folder on free ports, with drivers chosen by settings as in production: the embedded
 * default (PGlite, chDB, a local folder, the in-process bus, the local runner), or whatever
 * servers `env` names (DATABASE_URL, KAFKA_BROKERS, S3_BUCKET, RUNNER...). A test may bring
 * its own bus or ClickHouse client, drive builds by publishing their events (`runner: 'idle'`),
 * and make ClickHouse inserts fail or lag (`faults`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomId } from '@platform/contracts';
import {
  apiOptionsFrom,
  createApiServer,
  createDrivers,
  loadApiConfig,
  type ApiConfig,
  type ApiDeps,
  type ApiOptions,
  type ApiServer,
} from '@platform/api-server';
import type { ClickHouse } from '@platform/clickhouse';
import type { Db } from '@platform/db';
import { CertificateStore, Sealer } from '@platform/certificates';
import type { EventBus } from '@platform/event-bus';
import { createLogger, type Logger } from '@platform/logger';
import { createProxyServer, type ProxyServer } from '@platform/s3-reverse-proxy';
import { ClickHouseFaults, faultyClickHouse, idleRunner } from './fakes.ts';
import { HOST_ENV } from './infra-env.ts';
import { freePort } from './ports.ts';
import { clearDefaultToken, createProject, deploy, setDefaultToken, signup as signupOver } from './http.ts';

export interface PlatformOptions {
  /** Settings as in production (DATABASE_URL, KAFKA_BROKERS, S3_BUCKET, RUNNER, LOG_LEVEL...), over the test defaults. */
  env?: Record<string, string>;
  /** Api options of every replica, over those the settings give. */
  api?: Partial<ApiOptions>;
  /** Api-server replicas on the same drivers. Default 1. */
  replicas?: number;
  /** Per replica (by index): extra api options, e.g. a writer group of its own. */
  replicaOptions?: (index: number) => Partial<ApiOptions>;
  /** A bus of the caller's, left open, instead of the one the settings name. */
  bus?: EventBus;
  /** A ClickHouse client of the caller's, left open (chDB allows one data folder per process). */
  clickhouse?: ClickHouse;
  /** `idle`: a runner that runs nothing; builds are driven by publishing their events. Default: the runner RUNNER names. */
  runner?: 'idle';
  /** Serve deployments through an s3-reverse-proxy on the same store and bus. Default true. */
  proxy?: boolean;
  /** The proxy's HTTP port (an ACME CA validates HTTP-01 on a port it is told). Default: any free one. */
  proxyPort?: number;
  /** Custom domains and HTTPS on the proxy: certificates opened with this key, served on `httpsPort`. */
  proxyHttps?: { certificateStoreKey: Buffer; certificateRefreshMs?: number };
}

export interface Replica {
  url: string;
  api: ApiServer;
}

export interface Platform {
  /** Base URL of the first replica. */
  api: string;
  /** Port of the s3-reverse-proxy; undefined with `proxy: false`. */
  proxyPort: number | undefined;
  /** The proxy's HTTPS port, with `proxyHttps`. */
  httpsPort: number | undefined;
  deps: ApiDeps;
  db: Db;
  /** The client every replica uses, with inserts routed through `faults`. */
  clickhouse: ClickHouse;
  faults: ClickHouseFaults;
  logger: Logger;
  dataDir: string;
  replicas: Replica[];
  /** Access token of the platform's first user: `http()` and a `LogClient` send it to every replica unless a test passes its own. */
  token: string;
  /** Signs up another user; returns their access token. */
  signup(email?: string): Promise<{ token: string; userId: string }>;
  /** A project of the first user with a QUEUED preview deployment of `main`. */
  createDeployment(): Promise<{ deploymentId: string; projectId: string }>;
  /** Another replica on the same drivers; on `bus` when given (its own Kafka clients). */
  addReplica(options?: Partial<ApiOptions>, bus?: EventBus): Promise<Replica>;
  close(): Promise<void>;
}

/** The whole platform with the s3-reverse-proxy in front. */
export interface TestPlatform extends Platform {
  proxyPort: number;
}

/** The api-server replicas on an idle runner, builds driven by the test. */
export type LiveHarness = Platform;

/**
 * Tests sign up many users from one address and post to local notification receivers.
 * Fixture repositories are made in the system temp folder: the one allowed root for local paths.
 */
function testConfig(dataDir: string, options: PlatformOptions): ApiConfig {
  return loadApiConfig({
    PATH: HOST_ENV.PATH ?? '',
    DATA_DIR: dataDir,
    // Every test platform starts from the migrated PGlite template (initdb once per machine).
    ...(HOST_ENV.HOME ? { HOME: HOST_ENV.HOME } : {}),
    ...(HOST_ENV.XDG_CACHE_HOME ? { XDG_CACHE_HOME: HOST_ENV.XDG_CACHE_HOME } : {}),
    API_PORT: '0',
    LOG_LEVEL: 'warn',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    LOGIN_ADDRESS_RATE_LIMIT_PER_MINUTE: '1000',
    SIGNUP_RATE_LIMIT_PER_MINUTE: '1000',
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    ALLOW_LOCAL_GIT: 'true',
    LOCAL_GIT_ROOTS: tmpdir(),
    // A client of the caller's replaces the one the settings name: a placeholder server keeps a
    // second chDB from opening (its HTTP client connects on the first query, which never comes).
    ...(options.clickhouse ? { CLICKHOUSE_URL: 'http://127.0.0.1:9' } : {}),
    ...options.env,
  });
}

/** The drivers the settings name, with the caller's bus, ClickHouse client and runner in their place. */
async function platformDrivers(config: ApiConfig, logger: Logger, options: PlatformOptions, faults: ClickHouseFaults): Promise<ApiDeps> {
  const deps = await createDrivers(config, logger, options.bus ? { bus: options.bus } : {});
  if (options.clickhouse) await deps.clickhouse.close();
  if (options.runner === 'idle') await deps.runner.close();
  return {
    ...deps,
    clickhouse: faultyClickHouse(options.clickhouse ?? deps.clickhouse, faults),
    runner: options.runner === 'idle' ? idleRunner() : deps.runner,
  };
}

/** Every replica's options: from the settings, sign-up open, then the caller's. */
function replicaDefaults(config: ApiConfig, deps: ApiDeps, proxyPort: number | undefined, options: PlatformOptions): ApiOptions {
  const defaults = apiOptionsFrom(proxyPort === undefined ? config : { ...config, PUBLIC_PORT: proxyPort }, deps.runner);
  // Tests of accounts and tenancy need several accounts even where this machine cannot sandbox
  // builds (single-user mode would close sign-up); the sandbox suite asserts that mode itself.
  const access = { ...defaults.access, signup: defaults.access.signup === 'first-account' ? ('open' as const) : defaults.access.signup };
  return { ...defaults, access, ...options.api };
}

/** Starts the platform `options` describe; `close()` ends it and deletes its data folder. */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-test-'));
  const config = testConfig(dataDir, options);
  const logger = createLogger({ level: config.LOG_LEVEL });
  const faults = new ClickHouseFaults();
  const deps = await platformDrivers(config, logger, options, faults);
  let proxy: ProxyServer | undefined;
  const httpsPort = options.proxyHttps ? await freePort() : undefined;
  const https = options.proxyHttps
    ? {
        certificates: new CertificateStore(deps.store, new Sealer(options.proxyHttps.certificateStoreKey)),
        publicPort: httpsPort!,
        certificateRefreshMs: options.proxyHttps.certificateRefreshMs ?? 200,
      }
    : undefined;
  if (options.proxy !== false) proxy = createProxyServer({ store: deps.store, bus: deps.bus, logger }, { routeTtlMs: 200, requestLogFlushMs: 100, https });
  const proxyPort = proxy ? await proxy.listen(options.proxyPort ?? 0) : undefined;
  if (proxy && httpsPort !== undefined) await proxy.listenHttps(httpsPort);
  const defaults = replicaDefaults(config, deps, proxyPort, options);
  const replicas: Replica[] = [];
  let token: string | undefined;
  const addReplica = async (extra: Partial<ApiOptions> = {}, bus: EventBus = deps.bus): Promise<Replica> => {
    const api = await createApiServer({ ...deps, bus }, { ...defaults, ...extra });
    const replica = { url: `http://127.0.0.1:${await api.listen(0)}`, api };
    replicas.push(replica);
    if (token) setDefaultToken(replica.url, token);
    return replica;
  };
  for (let i = 0; i < (options.replicas ?? 1); i++) await addReplica(options.replicaOptions?.(i));
  const base = replicas[0]!.url;
  const signup = async (email?: string) => {
    const session = await signupOver(base, email === undefined ? {} : { email });
    return { token: session.accessToken, userId: session.user.id };
  };
  token = (await signup('owner@example.test')).token;
  for (const replica of replicas) setDefaultToken(replica.url, token);
  const close = async () => {
    for (const replica of replicas) clearDefaultToken(replica.url);
    await proxy?.close();
    for (const replica of replicas) await replica.api.close();
    await deps.runner.close();
    if (!options.bus) await deps.bus.close();
    await deps.store.close?.();
    if (!options.clickhouse) await deps.clickhouse.close();
    await deps.db.close();
    rmSync(dataDir, { recursive: true, force: true });
    // The builds' scratch root lies outside the data folder (the build's uid must pass through it).
    rmSync(config.scratchDir, { recursive: true, force: true });
  };
  const createDeployment = () => queuedPreview(base);
  return {
    api: base,
    proxyPort,
    httpsPort,
    deps,
    db: deps.db,
    clickhouse: deps.clickhouse,
    faults,
    logger,
    dataDir,
    replicas,
    token,
    signup,
    createDeployment,
    addReplica,
    close,
  };
}

/** A new project (production branch `production`) and a QUEUED preview deployment of its `main`. */
async function queuedPreview(base: string): Promise<{ deploymentId: string; projectId: string }> {
  const project = await createProject(base, { name: `live ${randomId(8)}`, gitUrl: 'https://git.example.com/site.git', productionBranch: 'production' });
  const deployment = await deploy(base, { projectId: project.id, ref: 'main' });
  return { deploymentId: deployment.id, projectId: project.id };
}

/**
 * The whole platform in a fresh data folder, on free ports: on the embedded default, or on
 * whatever servers `env` names (DATABASE_URL, KAFKA_BROKERS, S3_BUCKET...), as in production.
 */
export async function startEmbeddedPlatform(env: Record<string, string> = {}, options: Partial<ApiOptions> = {}): Promise<TestPlatform> {
  return (await startPlatform({ env, api: options })) as TestPlatform;
}

/**
 * Api-server replicas on one database and ClickHouse, on the caller's bus, with a runner that
 * runs nothing: the build-event path (writer, live feed, socket.io) under the test's control.
 */
export function startLiveHarness(options: {
  bus: EventBus;
  replicas?: number;
  /** Per replica (by index): extra api options, e.g. a writer group of its own. */
  replicaOptions?: (index: number) => Partial<ApiOptions>;
  logLevel?: string;
  /** A ClickHouse client to use (and leave open); chDB allows one data folder per process. */
  clickhouse?: ClickHouse;
}): Promise<LiveHarness> {
  return startPlatform({
    ...options,
    runner: 'idle',
    proxy: false,
    env: {
      LOG_LEVEL: options.logLevel ?? 'silent',
      // The idle runner runs nothing: no sandbox to probe for.
      SANDBOX: 'off',
      MAX_CONCURRENT_BUILDS: '1000',
      BUILD_TIMEOUT_MS: '600000',
      WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000',
      ACCESS_TOKEN_TTL_SECONDS: '3600',
    },
    api: { buildEvents: { retryBaseMs: 20, retryMaxMs: 200 }, liveLogs: { sweepIntervalMs: 500 } },
  });
}
