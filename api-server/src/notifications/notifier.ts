import { randomId, type NotificationEvent, type NotificationPayload } from '@platform/contracts';
import type { Db, DbExecutor } from '@platform/db';
import type { Logger } from '@platform/logger';
import type { SecretBox } from '../crypto/secret-box.ts';
import { hmacSha256Hex } from '../crypto/tokens.ts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import { presentDeployment } from '../http/presenters.ts';
import type { Urls } from '../urls.ts';
import { assertPublicUrl, publicOnlyLookup } from './ssrf.ts';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface NotificationEndpointRow {
  id: string;
  project_id: string;
  url: string;
  events: NotificationEvent[];
  secret_enc: string;
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event: string;
  payload: string;
  attempts: number;
  url: string;
  secret_enc: string;
}

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

export const endpointSecretContext = (endpointId: string) => `notify:${endpointId}`;

/**
 * Outgoing deployment notifications through a transactional outbox: events are rows written
 * in the database (never an HTTP call in the request path); a worker delivers them, signed,
 * with exponential backoff, and any replica can take a due delivery (`FOR UPDATE SKIP
 * LOCKED` plus a lease). New deployments and terminal statuses are picked up from the
 * deployments table itself, so every path that creates or ends a deployment (REST, webhooks,
 * build events, cancel, the reconciler) notifies without knowing about notifications.
 */
export class Notifier {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly deps: { db: Db; box: SecretBox; urls: Urls; logger: Logger },
    private readonly options: NotifierOptions,
  ) {}

  /** Writes one delivery per subscribed endpoint of the project. */
  async enqueue(type: NotificationEvent, deployment: DeploymentRow, projectSlug: string, db: DbExecutor = this.deps.db): Promise<number> {
    const payload: NotificationPayload = {
      id: `evt_${randomId(16)}`,
      type,
      createdAt: new Date().toISOString(),
      projectId: deployment.project_id,
      deployment: presentDeployment(deployment, { slug: projectSlug }, this.deps.urls),
    };
    const rows = await db.query(
      `INSERT INTO notification_deliveries (id, endpoint_id, event, payload)
       SELECT 'ntf_' || replace(gen_random_uuid()::text, '-', ''), e.id, $2, $3
       FROM notification_endpoints e
       WHERE e.project_id = $1 AND (cardinality(e.events) = 0 OR $2 = ANY(e.events))
       RETURNING id`,
      [deployment.project_id, type, JSON.stringify(payload)],
    );
    if (rows.length > 0) this.kick();
    return rows.length;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.pollIntervalMs ?? 1_000);
    this.timer.unref();
    this.kick();
  }

  /** Stops polling and waits for deliveries in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.running || this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      if (this.running) await new Promise((r) => setTimeout(r, 10));
    }
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.collectFinished();
          await this.deliverDue();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.deps.logger.error({ err }, 'notification pass failed');
      } finally {
        this.running = false;
      }
    })();
  }

  /**
   * Turns new deployments (deployment.created) and deployments that reached a terminal status
   * since the last pass into deliveries, in the same transaction that marks them notified.
   */
  private async collectFinished(): Promise<void> {
    for (;;) {
      const count = await this.deps.db.transaction(async (tx) => {
        const rows = await tx.query<DeploymentRow & { slug: string; previously_notified: string | null }>(
          `WITH picked AS (
             SELECT id, notified_status FROM deployments
             WHERE notified_status IS NULL OR (status IN ('READY', 'ERROR', 'CANCELED') AND notified_status IS DISTINCT FROM status)
             ORDER BY created_at LIMIT 100
             FOR UPDATE SKIP LOCKED
           ), marked AS (
             UPDATE deployments d SET notified_status = d.status FROM picked WHERE d.id = picked.id
             RETURNING d.*, picked.notified_status AS previously_notified
           )
           SELECT marked.*, projects.slug FROM marked JOIN projects ON projects.id = marked.project_id ORDER BY marked.created_at`,
        );
        for (const row of rows) {
          if (row.previously_notified === null) await this.enqueue('deployment.created', row, row.slug, tx);
          const terminal = TERMINAL_EVENT[row.status];
          if (terminal) await this.enqueue(terminal, row, row.slug, tx);
        }
        return rows.length;
      });
      if (count < 100) return;
    }
  }

  private async deliverDue(): Promise<void> {
    for (;;) {
      // The lease: a claimed delivery is not due again for a minute, so no other replica sends it meanwhile.
      const due = await this.deps.db.query<DeliveryRow>(
        `WITH claimed AS (
           UPDATE notification_deliveries SET attempts = attempts + 1, next_attempt_at = now() + interval '60 seconds'
           WHERE id IN (
             SELECT id FROM notification_deliveries
             WHERE status = 'pending' AND next_attempt_at <= now()
             ORDER BY next_attempt_at, seq LIMIT 20
             FOR UPDATE SKIP LOCKED
           )
           RETURNING *
         )
         SELECT claimed.id, claimed.endpoint_id, claimed.event, claimed.payload, claimed.attempts, e.url, e.secret_enc
         FROM claimed JOIN notification_endpoints e ON e.id = claimed.endpoint_id
         ORDER BY claimed.seq`,
      );
      if (due.length === 0) return;
      // Endpoints in parallel; each endpoint's deliveries one after another, in order.
      const byEndpoint = new Map<string, DeliveryRow[]>();
      for (const d of due) byEndpoint.set(d.endpoint_id, [...(byEndpoint.get(d.endpoint_id) ?? []), d]);
      const batch = [...byEndpoint.values()].map((list) =>
        this.track(
          (async () => {
            for (const d of list) await this.deliver(d);
          })(),
        ),
      );
      await Promise.allSettled(batch);
      if (this.stopped) return;
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(d: DeliveryRow): Promise<void> {
    let status: number | null = null;
    let error: string | null = null;
    try {
      if (!this.options.allowPrivateUrls) await assertPublicUrl(d.url);
      const secret = this.deps.box.open(d.secret_enc, endpointSecretContext(d.endpoint_id));
      const res = await postJson(d.url, d.payload, {
        'user-agent': 'platform-notifications/1',
        'x-platform-event': d.event,
        'x-platform-delivery': d.id,
        'x-platform-signature': `sha256=${hmacSha256Hex(secret, d.payload)}`,
      }, { timeoutMs: this.options.requestTimeoutMs ?? 10_000, allowPrivate: this.options.allowPrivateUrls });
      status = res.status;
      if (res.status < 200 || res.status >= 300) error = `the endpoint answered ${res.status}`;
    } catch (err) {
      error = (err as Error).message.slice(0, 500);
    }
    if (error === null) {
      await this.deps.db.query(
        `UPDATE notification_deliveries SET status = 'delivered', delivered_at = now(), response_status = $2, last_error = NULL WHERE id = $1`,
        [d.id, status],
      );
      return;
    }
    const maxAttempts = this.options.maxAttempts ?? 8;
    const backoff = Math.min((this.options.baseBackoffMs ?? 5_000) * 2 ** (d.attempts - 1), this.options.maxBackoffMs ?? 3_600_000);
    const giveUp = d.attempts >= maxAttempts;
    await this.deps.db.query(
      `UPDATE notification_deliveries
       SET status = $2, response_status = $3, last_error = $4, next_attempt_at = now() + ($5::double precision * interval '1 millisecond')
       WHERE id = $1`,
      [d.id, giveUp ? 'failed' : 'pending', status, error, backoff],
    );
    this.deps.logger.warn({ deliveryId: d.id, endpointId: d.endpoint_id, attempts: d.attempts, error, giveUp }, 'notification delivery failed');
    // A short backoff (tests, or a first quick retry) is served by a timer rather than the next poll.
    if (!giveUp && backoff < (this.options.pollIntervalMs ?? 1_000)) setTimeout(() => this.kick(), backoff + 5).unref();
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
