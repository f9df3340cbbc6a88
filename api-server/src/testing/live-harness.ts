/**
 * Test and benchmark support for the build-event path: api-server replicas on shared drivers
 * (PGlite, chDB and the bus the caller picks), a ClickHouse client whose inserts can be made
 * to fail or lag, and a socket.io client that records what it receives.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { randomId } from '@platform/contracts';
import { createClickHouse, type ClickHouse } from '@platform/clickhouse';
import { createPgliteDb, type Db } from '@platform/db';
import type { EventBus } from '@platform/event-bus';
import { createLogger, type Logger } from '@platform/logger';
import { createLocalObjectStore } from '@platform/object-store';
import type { Runner } from '@platform/runner';
import { createApiServer, type ApiOptions, type ApiServer } from '../api-server.ts';
import { AuthService as Auth } from '../auth/auth-service.ts';
import { UsersRepo } from '../auth/auth-repo.ts';
import type { AccessOptions } from '../config.ts';
import { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import { ProjectsRepo } from '../projects/projects-repo.ts';
import { Urls } from '../urls.ts';

/** Switches on the ClickHouse client that the harness hands the api-server. */
export class ClickHouseFaults {
  /** While true, every insert throws (ClickHouse down). */
  failInserts = false;
  /** Every insert waits this long first (a writer lagging behind the live feed). */
  insertDelayMs = 0;
  failedInserts = 0;
  insertedRows = 0;
}

/** The real client, with `insert` routed through `faults`; queries go straight through. */
export function faultyClickHouse(client: ClickHouse, faults: ClickHouseFaults): ClickHouse {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'insert') {
        return async (params: Parameters<ClickHouse['insert']>[0]) => {
          if (faults.insertDelayMs > 0) await new Promise((r) => setTimeout(r, faults.insertDelayMs));
          if (faults.failInserts) {
            faults.failedInserts++;
            throw new Error('injected fault: ClickHouse is unavailable');
          }
          const result = await target.insert(params);
          faults.insertedRows += Array.isArray(params.values) ? params.values.length : 0;
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Builds are driven by publishing their events directly; this runner only pretends to run them. */
export function idleRunner(): Runner {
  return {
    name: 'idle-test-runner',
    isolation: { singleUser: false, summary: 'idle test runner: runs nothing', problems: [] },
    start: async (task) => ({ taskId: `idle-${task.deploymentId}` }),
    stop: async () => {},
    describe: async () => ({ state: 'running' }),
    close: async () => {},
  };
}

/** The owner token of the most recently started harness, used by clients that pass none. */
let defaultToken: string | undefined;

export interface Replica {
  url: string;
  api: ApiServer;
}

export interface LiveHarness {
  db: Db;
  /** Access token of the user who owns every deployment `createDeployment` makes. */
  token: string;
  clickhouse: ClickHouse;
  faults: ClickHouseFaults;
  replicas: Replica[];
  logger: Logger;
  createDeployment(): Promise<{ deploymentId: string; projectId: string }>;
  /** Another replica on the same DB and ClickHouse; on `bus` when given (its own Kafka clients). */
  addReplica(options?: Partial<ApiOptions>, bus?: EventBus): Promise<Replica>;
  close(): Promise<void>;
}

export async function startLiveHarness(options: {
  bus: EventBus;
  replicas?: number;
  /** Per replica (by index): extra api options, e.g. a writer group of its own. */
  replicaOptions?: (index: number) => Partial<ApiOptions>;
  logLevel?: string;
  /** A ClickHouse client to use (and leave open); chDB allows one data folder per process. */
  clickhouse?: ClickHouse;
}): Promise<LiveHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'live-harness-'));
  const logger = createLogger({ level: options.logLevel ?? 'silent' });
  const db = await createPgliteDb({ dataDir: join(dataDir, 'pglite') });
  const realClickHouse = options.clickhouse ?? createClickHouse({ driver: 'chdb', path: join(dataDir, 'chdb') });
  const faults = new ClickHouseFaults();
  const clickhouse = faultyClickHouse(realClickHouse, faults);
  const store = createLocalObjectStore({ rootDir: join(dataDir, 'objects') });
  const replicas: Replica[] = [];
  // Every replica shares the keys, as production replicas must.
  const access: AccessOptions = {
    jwtSecret: randomBytes(48),
    envEncryptionKey: randomBytes(32),
    accessTokenTtlSeconds: 3_600,
    signup: 'open',
    loginRateLimitPerMinute: 1_000,
    webhookRateLimitPerMinute: 1_000,
    allowPrivateWebhookUrls: true,
  };

  const addReplica = async (extra: Partial<ApiOptions> = {}, bus: EventBus = options.bus): Promise<Replica> => {
    const api = await createApiServer(
      { db, store, bus, clickhouse, runner: idleRunner(), logger },
      {
        urls: new Urls({ rootDomain: 'localhost', scheme: 'http', port: 8000 }),
        localGitRoots: [tmpdir()],
        scheduler: {
          maxConcurrentBuilds: 1_000,
          taskSettings: { storage: { driver: 'local', dir: join(dataDir, 'objects') }, transport: { driver: 'pipe' }, localGitRoots: [tmpdir()], timeoutMs: 600_000 },
        },
        buildEvents: { retryBaseMs: 20, retryMaxMs: 200 },
        liveLogs: { sweepIntervalMs: 500 },
        access,
        ...extra,
      },
    );
    const port = await api.listen(0);
    const replica = { url: `http://127.0.0.1:${port}`, api };
    replicas.push(replica);
    return replica;
  };
  for (let i = 0; i < (options.replicas ?? 1); i++) await addReplica(options.replicaOptions?.(i));

  const projects = new ProjectsRepo(db);
  const deployments = new DeploymentsRepo(db);
  const users = new UsersRepo(db);
  const owner = (await users.create(`live-${randomId(8)}@example.test`, 'not-a-password-hash'))!;
  const { accessToken: token } = await new Auth({ users, jwtSecret: access.jwtSecret, accessTokenTtlSeconds: 3_600 }).issueAccessToken(owner);
  defaultToken = token;
  return {
    db,
    token,
    clickhouse,
    faults,
    replicas,
    logger,
    addReplica,
    async createDeployment() {
      const project = await projects.create({ name: `live ${randomId(8)}`, gitUrl: 'https://git.example.com/site.git' }, owner.id);
      const deployment = await deployments.create({ projectId: project.id, target: 'preview', ref: 'main', commit: null });
      return { deploymentId: deployment.id, projectId: project.id };
    },
    async close() {
      for (const r of replicas) await r.api.close();
      if (!options.clickhouse) await realClickHouse.close();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedEvent {
  event: 'log' | 'status';
  seq: number;
  ts: number;
  status?: string;
  message?: string;
  receivedAt: number;
}

/**
 * A socket.io client of one deployment's live log. It resubscribes with the last seq it has
 * after every reconnect, as a browser would; `ended` resolves at a terminal status.
 */
export class LogClient {
  readonly received: ReceivedEvent[] = [];
  readonly ended: Promise<ReceivedEvent>;
  readonly errors: unknown[] = [];
  private socket: Socket | undefined;
  private endedResolve!: (e: ReceivedEvent) => void;

  constructor(
    private readonly deploymentId: string,
    private readonly afterSeq = 0,
    /** Credential for the socket handshake; the last started harness's owner by default. */
    private readonly token?: string,
  ) {
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
  }

  get lastSeq(): number {
    return this.received.at(-1)?.seq ?? this.afterSeq;
  }

  /** Connects (again) to `url` and subscribes after the last seq received. */
  async connect(url: string): Promise<{ ok: boolean; status?: string; error?: string }> {
    this.socket?.disconnect();
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: this.token ?? defaultToken } });
    this.socket = socket;
    socket.on('log', (e: { seq: number; ts: number; message: string }) => {
      this.received.push({ event: 'log', seq: e.seq, ts: e.ts, message: e.message, receivedAt: Date.now() });
    });
    socket.on('status', (e: { seq: number; status: string }) => {
      const got: ReceivedEvent = { event: 'status', seq: e.seq, ts: 0, status: e.status, receivedAt: Date.now() };
      this.received.push(got);
      if (['READY', 'ERROR', 'CANCELED'].includes(e.status)) this.endedResolve(got);
    });
    socket.on('stream-error', (e: unknown) => this.errors.push(e));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket.emitWithAck('subscribe', { deploymentId: this.deploymentId, afterSeq: this.lastSeq });
  }

  disconnect(): void {
    this.socket?.disconnect();
  }

  /** The seq numbers received, in the order they arrived. */
  seqs(): number[] {
    return this.received.map((r) => r.seq);
  }
}

/** [from, from + 1, ..., to] */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
