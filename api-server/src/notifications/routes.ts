import { Router } from 'express';
import { createNotificationEndpointBodySchema, randomId, type NotificationEndpoint } from '@platform/contracts';
import type { Db } from '@platform/db';
import type { SecretBox } from '../crypto/secret-box.ts';
import { randomSecret } from '../crypto/tokens.ts';
import { HttpError, notFound, parseBody } from '../errors.ts';
import { ownedProject } from '../projects/access.ts';
import { endpointSecretContext, type NotificationEndpointRow } from './notifier.ts';
import { assertPublicUrl } from './ssrf.ts';

const present = (row: NotificationEndpointRow): NotificationEndpoint => ({
  id: row.id,
  url: row.url,
  events: row.events,
  createdAt: new Date(row.created_at).toISOString(),
});

/** `/projects/:projectId/notifications`: endpoints that receive signed deployment events. */
export function notificationRoutes(deps: { db: Db; box: SecretBox; allowPrivateUrls: boolean }): Router {
  const router = Router();
  const { db, box } = deps;

  router.post('/projects/:projectId/notifications', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(createNotificationEndpointBodySchema, req.body);
    if (!deps.allowPrivateUrls) {
      try {
        await assertPublicUrl(body.url);
      } catch (err) {
        throw new HttpError(400, 'invalid_body', `invalid request body: url: ${(err as Error).message} (allowed only with ALLOW_PRIVATE_WEBHOOK_URLS=true)`);
      }
    }
    const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notification_endpoints WHERE project_id = $1', [project.id]);
    if ((count[0]?.n ?? 0) >= 20) throw new HttpError(409, 'too_many_endpoints', 'a project can have at most 20 notification endpoints');
    const id = `nte_${randomId(16)}`;
    const secret = randomSecret('whsec');
    const rows = await db.query<NotificationEndpointRow>(
      `INSERT INTO notification_endpoints (id, project_id, url, events, secret_enc) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [id, project.id, body.url, [...new Set(body.events)], box.seal(secret, endpointSecretContext(id))],
    );
    // The signing secret is shown once; verify X-Platform-Signature with it.
    res.status(201).json({ endpoint: present(rows[0]!), secret });
  });

  router.get('/projects/:projectId/notifications', async (_req, res) => {
    const rows = await db.query<NotificationEndpointRow>(
      'SELECT * FROM notification_endpoints WHERE project_id = $1 ORDER BY created_at, id',
      [ownedProject(res).id],
    );
    res.json({ endpoints: rows.map(present) });
  });

  router.get('/projects/:projectId/notifications/:endpointId/deliveries', async (req, res) => {
    const rows = await db.query<Record<string, unknown>>(
      `SELECT d.id, d.event, d.status, d.attempts, d.response_status, d.last_error, d.created_at, d.delivered_at
       FROM notification_deliveries d JOIN notification_endpoints e ON e.id = d.endpoint_id
       WHERE e.project_id = $1 AND e.id = $2 ORDER BY d.created_at DESC LIMIT 100`,
      [ownedProject(res).id, String(req.params.endpointId)],
    );
    res.json({
      deliveries: rows.map((r) => ({
        id: r.id,
        event: r.event,
        status: r.status,
        attempts: r.attempts,
        responseStatus: r.response_status,
        lastError: r.last_error,
        createdAt: new Date(r.created_at as Date).toISOString(),
        deliveredAt: r.delivered_at ? new Date(r.delivered_at as Date).toISOString() : null,
      })),
    });
  });

  router.delete('/projects/:projectId/notifications/:endpointId', async (req, res) => {
    const rows = await db.query('DELETE FROM notification_endpoints WHERE project_id = $1 AND id = $2 RETURNING id', [
      ownedProject(res).id,
      String(req.params.endpointId),
    ]);
    if (rows.length === 0) throw notFound('notification endpoint');
    res.status(204).end();
  });

  return router;
}
