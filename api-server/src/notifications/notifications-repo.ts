import { randomId, type NotificationEvent } from '@platform/contracts';
import type { Db, DbExecutor } from '@platform/db';

export interface NotificationEndpointRow {
  id: string;
  project_id: string;
  url: string;
  events: NotificationEvent[];
  secret_enc: string;
  created_at: Date;
}

/** A delivery claimed for sending, with its endpoint's URL and sealed secret. */
export interface DueDeliveryRow {
  id: string;
  endpoint_id: string;
  event: string;
  payload: string;
  attempts: number;
  url: string;
  secret_enc: string;
}

/** A delivery as an endpoint's history shows it. */
export interface DeliveryHistoryRow {
  id: string;
  event: string;
  status: string;
  attempts: number;
  response_status: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** Every statement on `notification_endpoints` and `notification_deliveries` (the outbox). */
export class NotificationsRepo {
  constructor(private readonly db: Db) {}

  /** Writes one delivery per endpoint of the project subscribed to `event`; returns how many. */
  async enqueue(projectId: string, event: NotificationEvent, payload: string, db: DbExecutor = this.db): Promise<number> {
    const rows = await db.query(
      `INSERT INTO notification_deliveries (id, endpoint_id, event, payload)
       SELECT 'ntf_' || replace(gen_random_uuid()::text, '-', ''), e.id, $2, $3
       FROM notification_endpoints e
       WHERE e.project_id = $1 AND (cardinality(e.events) = 0 OR $2 = ANY(e.events))
       RETURNING id`,
      [projectId, event, payload],
    );
    return rows.length;
  }

  /**
   * Claims up to `limit` due deliveries, oldest first. The lease: a claimed delivery is not
   * due again for a minute, so no other replica sends it meanwhile.
   */
  async claimDue(limit: number): Promise<DueDeliveryRow[]> {
    return this.db.query<DueDeliveryRow>(
      `WITH claimed AS (
         UPDATE notification_deliveries SET attempts = attempts + 1, next_attempt_at = now() + interval '60 seconds'
         WHERE id IN (
           SELECT id FROM notification_deliveries
           WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY next_attempt_at, seq LIMIT $1
           FOR UPDATE SKIP LOCKED
         )
         RETURNING *
       )
       SELECT claimed.id, claimed.endpoint_id, claimed.event, claimed.payload, claimed.attempts, e.url, e.secret_enc
       FROM claimed JOIN notification_endpoints e ON e.id = claimed.endpoint_id
       ORDER BY claimed.seq`,
      [limit],
    );
  }

  async markDelivered(id: string, responseStatus: number | null): Promise<void> {
    await this.db.query(
      `UPDATE notification_deliveries SET status = 'delivered', delivered_at = now(), response_status = $2, last_error = NULL WHERE id = $1`,
      [id, responseStatus],
    );
  }

  /** A failed attempt: due again after `retryInMs`, or given up (`failed`). */
  async markFailed(id: string, outcome: { giveUp: boolean; responseStatus: number | null; error: string; retryInMs: number }): Promise<void> {
    await this.db.query(
      `UPDATE notification_deliveries
       SET status = $2, response_status = $3, last_error = $4, next_attempt_at = now() + ($5::double precision * interval '1 millisecond')
       WHERE id = $1`,
      [id, outcome.giveUp ? 'failed' : 'pending', outcome.responseStatus, outcome.error, outcome.retryInMs],
    );
  }

  async countEndpoints(projectId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM notification_endpoints WHERE project_id = $1', [projectId]);
    return rows[0]?.n ?? 0;
  }

  /** `sealSecret` seals the signing secret for the new endpoint's id. */
  async createEndpoint(
    projectId: string,
    url: string,
    events: readonly NotificationEvent[],
    sealSecret: (id: string) => string,
  ): Promise<NotificationEndpointRow> {
    const id = `nte_${randomId(16)}`;
    const rows = await this.db.query<NotificationEndpointRow>(
      `INSERT INTO notification_endpoints (id, project_id, url, events, secret_enc) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [id, projectId, url, [...new Set(events)], sealSecret(id)],
    );
    return rows[0]!;
  }

  async listEndpoints(projectId: string): Promise<NotificationEndpointRow[]> {
    return this.db.query<NotificationEndpointRow>('SELECT * FROM notification_endpoints WHERE project_id = $1 ORDER BY created_at, id', [projectId]);
  }

  /** The newest 100 deliveries to one of the project's endpoints. */
  async listDeliveries(projectId: string, endpointId: string): Promise<DeliveryHistoryRow[]> {
    return this.db.query<DeliveryHistoryRow>(
      `SELECT d.id, d.event, d.status, d.attempts, d.response_status, d.last_error, d.created_at, d.delivered_at
       FROM notification_deliveries d JOIN notification_endpoints e ON e.id = d.endpoint_id
       WHERE e.project_id = $1 AND e.id = $2 ORDER BY d.created_at DESC LIMIT 100`,
      [projectId, endpointId],
    );
  }

  async deleteEndpoint(projectId: string, endpointId: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM notification_endpoints WHERE project_id = $1 AND id = $2 RETURNING id', [projectId, endpointId]);
    return rows.length > 0;
  }
}
