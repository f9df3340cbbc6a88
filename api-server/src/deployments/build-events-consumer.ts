import { setTimeout as sleep } from 'node:timers/promises';
import { BUILD_EVENTS_TOPIC, isTerminalStatus, randomId, type BuildEvent } from '@platform/contracts';
import type { EventBus, Subscription } from '@platform/event-bus';
import type { LogStore } from '@platform/clickhouse';
import type { Logger } from '@platform/logger';
import type { ProjectsRepo } from '../projects/projects-repo.ts';
import type { DeploymentsRepo } from './deployments-repo.ts';
import { parseBuildEvents, ReplayGuard, type EventGuard } from './event-guard.ts';
import type { RoutePublisher } from './route-publisher.ts';

export { parseBuildEvents } from './event-guard.ts';

/** Every api-server replica shares this group: each event is written to ClickHouse and the DB once. */
export const BUILD_EVENTS_WRITER_GROUP = 'api-build-events-writer';

/** A group of its own per replica, so every replica sees every event for its own sockets. */
export const liveGroupId = (): string => `api-live-${randomId(12)}`;

export interface BuildEventsConsumerOptions {
  /** Consumer group of the writer; every replica uses the same one. */
  groupId?: string;
  /** Most events handed to the handler at once (the bus batch size). Default 20,000. */
  maxBatchRows?: number;
  /** Insert at once when this many rows are waiting. Default 2,000. */
  flushRows?: number;
  /**
   * Below `flushRows`, at most one insert per this many ms, so a trickle of lines does not
   * become one ClickHouse part per line. Default 100.
   */
  lingerMs?: number;
  /** Backoff between retries of a failed insert or DB update: doubles from base to max. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** On stop, how long a batch that keeps failing may still retry before it is abandoned (left unacknowledged). */
  drainTimeoutMs?: number;
}

export interface BuildEventsConsumer {
  /** Stops consuming: the batch in hand is finished (or abandoned unacknowledged after the drain timeout). */
  stop(): Promise<void>;
}

class StoppedError extends Error {
  constructor() {
    super('build-events consumer stopped');
  }
}

export interface BuildEventsWriterDeps {
  bus: EventBus;
  logStore: LogStore;
  deployments: DeploymentsRepo;
  projects: Pick<ProjectsRepo, 'get'>;
  routes: Pick<RoutePublisher, 'publishReady'>;
  logger: Logger;
  /** Called after a batch that ended a deployment was written (frees a build slot). */
  onTerminal: () => void;
  /**
   * Called with each batch once it is fully applied (in ClickHouse, statuses on the rows,
   * routes published) and before it is acknowledged: the live logs announce it to every
   * replica's live feed. It must not throw.
   */
  onApplied?: (events: readonly BuildEvent[]) => Promise<void>;
  /** Signature checks and the count of dropped events (see event-guard.ts). */
  guard?: EventGuard;
}

/**
 * Turns build events into state: every event into ClickHouse `log_events`, status events into
 * the deployment row (and route records on READY). A batch is acknowledged (its offsets
 * committed) only when the handler resolves, which is after both writes succeeded: while
 * ClickHouse or the DB is down the handler retries with backoff and consumption pauses;
 * nothing is skipped. Both writes are idempotent on (deploymentId, seq), so a redelivery
 * after a crash is harmless.
 */
export async function startBuildEventsConsumer(deps: BuildEventsWriterDeps, options: BuildEventsConsumerOptions = {}): Promise<BuildEventsConsumer> {
  const log = deps.logger.child({ component: 'build-events-consumer' });
  const abort = new AbortController();
  const retry = { signal: abort.signal, baseMs: options.retryBaseMs ?? 100, maxMs: options.retryMaxMs ?? 5_000, log };
  const batcher = new InsertBatcher((events) => retrying('inserting build events into ClickHouse', () => deps.logStore.insert(events), retry), {
    maxRows: options.flushRows ?? 2_000,
    lingerMs: options.lingerMs ?? 100,
  });

  const replays = new ReplayGuard(deps.guard?.rejected);
  const subscription: Subscription = await deps.bus.subscribe(
    BUILD_EVENTS_TOPIC,
    { groupId: options.groupId ?? BUILD_EVENTS_WRITER_GROUP, fromBeginning: true, maxBatchSize: options.maxBatchRows ?? 20_000 },
    async (messages) => {
      const events = replays.fresh(parseBuildEvents(messages, log, deps.guard), log);
      // ClickHouse before the DB: a terminal status in the DB promises the full log is stored.
      await batcher.add(events);
      let finished = false;
      await retrying(
        'applying status events to the deployments',
        async () => {
          finished = await applyStatuses(deps, events);
        },
        retry,
      );
      replays.applied(events);
      await deps.onApplied?.(events);
      if (finished) deps.onTerminal();
    },
  );

  return {
    async stop() {
      const timer = setTimeout(() => abort.abort(), options.drainTimeoutMs ?? 5_000);
      try {
        await subscription.stop();
      } finally {
        clearTimeout(timer);
        abort.abort();
      }
    },
  };
}

/** Runs `work` until it succeeds, with doubling backoff; only an abort ends the retries (with StoppedError). */
async function retrying(what: string, work: () => Promise<void>, retry: { signal: AbortSignal; baseMs: number; maxMs: number; log: Logger }): Promise<void> {
  for (let failures = 0; ; failures++) {
    if (retry.signal.aborted) throw new StoppedError();
    try {
      await work();
      if (failures > 0) retry.log.info({ failures }, `${what} succeeded after retrying`);
      return;
    } catch (err) {
      const delayMs = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(failures, 16));
      retry.log.warn({ err, attempt: failures + 1, retryInMs: delayMs }, `${what} failed; consumption paused until it succeeds`);
      try {
        await sleep(delayMs, undefined, { signal: retry.signal });
      } catch {
        throw new StoppedError();
      }
    }
  }
}

/** Applies the batch's status events to the deployment rows; true when one of them ended a deployment. */
async function applyStatuses(deps: Pick<BuildEventsWriterDeps, 'deployments' | 'projects' | 'routes'>, events: readonly BuildEvent[]): Promise<boolean> {
  let finished = false;
  for (const event of events) {
    if (event.type !== 'status') continue;
    if (event.status === 'READY') {
      // Routes first, status second: whoever sees READY can already open the URL.
      const current = await deps.deployments.get(event.deploymentId);
      if (!current || isTerminalStatus(current.status) || current.last_event_seq >= event.seq) continue;
      const project = await deps.projects.get(current.project_id);
      if (project) await deps.routes.publishReady(current, project);
    }
    const row = await deps.deployments.applyStatusEvent(event);
    if (row && isTerminalStatus(row.status)) finished = true;
  }
  return finished;
}

interface Waiter {
  events: readonly BuildEvent[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers events from concurrent handler calls into one insert: flushed as soon as
 * `maxRows` are waiting, otherwise once `lingerMs` have passed since the previous insert
 * began (so an idle consumer inserts at once, a busy trickle at most every `lingerMs`).
 * `add` resolves when the insert holding its events succeeded. Inserts run one at a time.
 */
export class InsertBatcher {
  private waiting: Waiter[] = [];
  private rows = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastFlushAt = -Infinity;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly insert: (events: BuildEvent[]) => Promise<void>,
    private readonly options: { maxRows: number; lingerMs: number },
  ) {}

  add(events: readonly BuildEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      this.rows += events.length;
      const sinceLast = performance.now() - this.lastFlushAt;
      if (this.rows >= this.options.maxRows || sinceLast >= this.options.lingerMs) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs - sinceLast);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    this.rows = 0;
    this.lastFlushAt = performance.now();
    this.chain = this.chain.then(async () => {
      try {
        await this.insert(batch.flatMap((w) => w.events));
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    });
  }
}
