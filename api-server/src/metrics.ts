import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataLifecycleRepo } from './data-lifecycle/data-lifecycle-repo.ts';
import type { DeploymentsRepo } from './deployments/deployments-repo.ts';

/**
 * Prometheus metrics of the build pipeline, served at `/metrics`. The queue length and the
 * running builds are read from the metadata DB at scrape time, so they are the platform's
 * figures whichever replica answers: scale ECS services on `platform_build_queue_length`
 * (aggregate replicas with max(), not sum()). Build durations are observed from the DB too,
 * for deployments that ended since this process started, so the histogram also covers the
 * whole platform on every replica.
 */
export interface ApiMetrics {
  registry: Registry;
  handler: RequestHandler;
  launchFailures: Counter<'retryable'>;
  reconciled: Counter<'status'>;
  /** Build events dropped before they were applied or shown, by why and by which consumer. */
  buildEventsRejected: Counter<'reason' | 'consumer'>;
}

const DURATION_BUCKETS = [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800];

export function createApiMetrics(deps: { deployments: DeploymentsRepo; storageUsage?: Pick<DataLifecycleRepo, 'listUsage'> }): ApiMetrics {
  const registry = new Registry();
  let scrapes: Promise<unknown> = Promise.resolve();
  let cursor = { at: new Date(), id: '' };

  new Gauge({
    name: 'platform_build_queue_length',
    help: 'Deployments waiting for a build slot (QUEUED, not launched).',
    registers: [registry],
    async collect() {
      this.set(await deps.deployments.countQueued());
    },
  });
  new Gauge({
    name: 'platform_builds_running',
    help: 'Deployments whose build task has been launched and has not ended.',
    registers: [registry],
    async collect() {
      this.set(await deps.deployments.countRunning());
    },
  });
  if (deps.storageUsage) storageGauge(registry, deps.storageUsage);
  const waits = new Histogram({
    name: 'platform_build_queue_wait_seconds',
    help: 'Time from a deployment being queued to its build starting (BUILDING), for builds that ended.',
    buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  new Histogram({
    name: 'platform_build_duration_seconds',
    help: 'Time from a build starting (or being launched) to its deployment ending, by final status.',
    labelNames: ['status'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
    async collect() {
      for (;;) {
        const rows = await deps.deployments.listFinishedAfter(cursor);
        for (const row of rows) {
          const started = row.started_at ?? row.launched_at;
          if (started && row.finished_at) {
            this.observe({ status: row.status }, Math.max(0, (row.finished_at.getTime() - started.getTime()) / 1000));
          }
          if (row.started_at) waits.observe(Math.max(0, (row.started_at.getTime() - row.created_at.getTime()) / 1000));
        }
        const last = rows.at(-1);
        if (!last?.finished_at) break;
        cursor = { at: last.finished_at, id: last.id };
        if (rows.length < 1_000) break;
      }
    },
  });
  const { launchFailures, reconciled, buildEventsRejected } = counters(registry);

  const handler: RequestHandler = async (_req, res, next) => {
    try {
      // The histogram's collect reads new rows: one scrape at a time keeps the cursor honest.
      const text = scrapes.then(() => registry.metrics());
      scrapes = text.catch(() => undefined);
      res.set('content-type', registry.contentType).send(await text);
    } catch (err) {
      next(err);
    }
  };
  return { registry, handler, launchFailures, reconciled, buildEventsRejected };
}

/** The counters this replica increments itself. */
function counters(registry: Registry) {
  const launchFailures = new Counter({
    name: 'platform_build_launch_failures_total',
    help: 'Build launches that failed (runner refused or failed to start a task), by whether a retry follows.',
    labelNames: ['retryable'],
    registers: [registry],
  });
  const reconciled = new Counter({
    name: 'platform_deployments_ended_by_platform_total',
    help: 'Deployments this replica ended itself (cancel, timeout, a task that died, launch failure), by status.',
    labelNames: ['status'],
    registers: [registry],
  });
  const buildEventsRejected = new Counter({
    name: 'platform_build_events_rejected_total',
    help: 'Build events dropped, never applied nor shown: malformed, unsigned, bad_signature (forged, tampered, for another deployment), replayed; by consumer (writer, live).',
    labelNames: ['reason', 'consumer'],
    registers: [registry],
  });
  return { launchFailures, reconciled, buildEventsRejected };
}

/** Bytes per project and kind, read at scrape time from the last measurements (any replica answers alike). */
function storageGauge(registry: Registry, storageUsage: Pick<DataLifecycleRepo, 'listUsage'>): void {
  new Gauge({
    name: 'platform_project_storage_bytes',
    help: 'Bytes each project holds, by kind (deployments, build_cache, logs), as last measured by the data-lifecycle worker.',
    labelNames: ['project', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await storageUsage.listUsage()) {
        this.set({ project: row.slug, kind: 'deployments' }, Number(row.deployments_bytes));
        this.set({ project: row.slug, kind: 'build_cache' }, Number(row.build_cache_bytes));
        this.set({ project: row.slug, kind: 'logs' }, Number(row.log_bytes));
      }
    },
  });
}
