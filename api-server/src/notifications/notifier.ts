import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomId, type NotificationEvent, type NotificationPayload } from '@platform/contracts';
import type { DbExecutor } from '@platform/db';
import type { Logger } from '@platform/logger';
import type { SecretBox } from '../crypto/secret-box.ts';
import { hmacSha256Hex } from '../crypto/tokens.ts';
import type { DeploymentRow, DeploymentsRepo } from '../deployments/deployments-repo.ts';
import { presentDeployment } from '../deployments/presenters.ts';
import type { Urls } from '../urls.ts';
import { PeriodicWorker } from '../workers/periodic-worker.ts';
import { endpointSecretContext } from './notifications-service.ts';
import type { DueDeliveryRow, NotificationsRepo } from './notifications-repo.ts';
import { assertPublicUrl, publicOnlyLookup } from './ssrf.ts';

export interface NotifierOptions {
  /** How often the worker looks for due deliveries and newly finished deployments. Default 1 s. */
  pollIntervalMs?: number;
  /** Delay before the first retry; doubles per attempt, capped at `maxBackoffMs`. Default 5 s. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** After this many failed attempts a delivery is given up. Default 8. */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  allowPrivateUrls: boolean;
}

const TERMINAL_EVENT: Record<string, NotificationEvent> = {
  READY: 'deployment.succeeded',
  ERROR: 'deployment.error',
  CANCELED: 'deployment.canceled',
};

/** Deployments turned into deliveries per transaction, and deliveries claimed per batch. */
const COLLECT_BATCH = 100;
const DELIVERY_BATCH = 20;

export interface NotifierDeps {
  notifications: NotificationsRepo;
  deployments: Pick<DeploymentsRepo, 'markNotified'>;
  box: SecretBox;
  urls: Urls;
  logger: Logger;
}

/**
 * Outgoing deployment notifications through a transactional outbox: events are rows written
 * in the database (never an HTTP call in the request path); a worker delivers them, signed,
 * with exponential backoff, and any replica can take a due delivery (`FOR UPDATE SKIP
 * LOCKED` plus a lease). New deployments and terminal statuses are picked up from the
 * deployments table itself, so every path that creates or ends a deployment (REST, webhooks,
 * build events, cancel, the reconciler) notifies without knowing about notifications.
 */
export class Notifier {
  private readonly worker: PeriodicWorker;
  private readonly pollIntervalMs: number;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly options: NotifierOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.worker = new PeriodicWorker({
      intervalMs: this.pollIntervalMs,
      pass: async () => {
        await this.collectFinished();
        await this.deliverDue();
      },
      logger: deps.logger,
      failureMessage: 'notification pass failed',
    });
  }

  /** Writes one delivery per subscribed endpoint of the project. */
  async enqueue(type: NotificationEvent, deployment: DeploymentRow, projectSlug: string, db?: DbExecutor): Promise<number> {
    const payload: NotificationPayload = {
      id: `evt_${randomId(16)}`,
      type,
      createdAt: new Date().toISOString(),
      projectId: deployment.project_id,
      deployment: presentDeployment(deployment, { slug: projectSlug }, this.deps.urls),
    };
    const count = await this.deps.notifications.enqueue(deployment.project_id, type, JSON.stringify(payload), db);
    if (count > 0) this.kick();
    return count;
  }

  start(): void {
    this.worker.start();
  }

  /** Stops polling and waits for the deliveries in flight. */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  kick(): void {
    this.worker.kick();
  }

  /**
   * Turns new deployments (deployment.created) and deployments that reached a terminal status
   * since the last pass into deliveries, in the same transaction that marks them notified.
   */
  private async collectFinished(): Promise<void> {
    for (;;) {
      const count = await this.deps.deployments.markNotified(COLLECT_BATCH, async (rows, tx) => {
        for (const row of rows) {
          if (row.previously_notified === null) await this.enqueue('deployment.created', row, row.slug, tx);
          const terminal = TERMINAL_EVENT[row.status];
          if (terminal) await this.enqueue(terminal, row, row.slug, tx);
        }
      });
      if (count < COLLECT_BATCH) return;
    }
  }

  private async deliverDue(): Promise<void> {
    while (!this.worker.stopped) {
      const due = await this.deps.notifications.claimDue(DELIVERY_BATCH);
      if (due.length === 0) return;
      // Endpoints in parallel; each endpoint's deliveries one after another, in order.
      const byEndpoint = new Map<string, DueDeliveryRow[]>();
      for (const d of due) byEndpoint.set(d.endpoint_id, [...(byEndpoint.get(d.endpoint_id) ?? []), d]);
      await Promise.allSettled(
        [...byEndpoint.values()].map(async (list) => {
          for (const d of list) await this.deliver(d);
        }),
      );
    }
  }

  private async deliver(d: DueDeliveryRow): Promise<void> {
    const { status, error } = await this.send(d);
    if (error === null) {
      await this.deps.notifications.markDelivered(d.id, status);
      return;
    }
    const retryInMs = Math.min((this.options.baseBackoffMs ?? 5_000) * 2 ** (d.attempts - 1), this.options.maxBackoffMs ?? 3_600_000);
    const giveUp = d.attempts >= (this.options.maxAttempts ?? 8);
    await this.deps.notifications.markFailed(d.id, { giveUp, responseStatus: status, error, retryInMs });
    this.deps.logger.warn({ deliveryId: d.id, endpointId: d.endpoint_id, attempts: d.attempts, error, giveUp }, 'notification delivery failed');
    // A short backoff (tests, or a first quick retry) is served by a timer rather than the next poll.
    if (!giveUp && retryInMs < this.pollIntervalMs) this.worker.kickIn(retryInMs + 5);
  }

  /** One signed attempt: the endpoint's status, and what went wrong (null: delivered). */
  private async send(d: DueDeliveryRow): Promise<{ status: number | null; error: string | null }> {
    try {
      if (!this.options.allowPrivateUrls) await assertPublicUrl(d.url);
      const secret = this.deps.box.open(d.secret_enc, endpointSecretContext(d.endpoint_id));
      const headers = {
        'user-agent': 'platform-notifications/1',
        'x-platform-event': d.event,
        'x-platform-delivery': d.id,
        'x-platform-signature': `sha256=${hmacSha256Hex(secret, d.payload)}`,
      };
      const res = await postJson(d.url, d.payload, headers, {
        timeoutMs: this.options.requestTimeoutMs ?? 10_000,
        allowPrivate: this.options.allowPrivateUrls,
      });
      return { status: res.status, error: res.status < 200 || res.status >= 300 ? `the endpoint answered ${res.status}` : null };
    } catch (err) {
      return { status: null, error: (err as Error).message.slice(0, 500) };
    }
  }
}

/** One POST, no redirects followed; with `allowPrivate` false the connection itself refuses internal addresses. */
function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: options.timeoutMs,
        ...(options.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
