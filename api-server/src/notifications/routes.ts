import { Router } from 'express';
import { createNotificationEndpointBodySchema } from '@platform/contracts';
import { parseBody } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { NotificationsService } from './notifications-service.ts';
import { presentDelivery, presentEndpoint } from './presenters.ts';

/** `/projects/:projectId/notifications`: endpoints that receive signed deployment events. */
export function notificationRoutes(deps: { notifications: NotificationsService }): Router {
  const router = Router();
  const { notifications } = deps;

  router.post('/projects/:projectId/notifications', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(createNotificationEndpointBodySchema, req.body);
    const { endpoint, secret } = await notifications.createEndpoint(project.id, body);
    // The signing secret is shown once; verify X-Platform-Signature with it.
    res.status(201).json({ endpoint: presentEndpoint(endpoint), secret });
  });

  router.get('/projects/:projectId/notifications', async (_req, res) => {
    res.json({ endpoints: (await notifications.listEndpoints(ownedProject(res).id)).map(presentEndpoint) });
  });

  router.get('/projects/:projectId/notifications/:endpointId/deliveries', async (req, res) => {
    const rows = await notifications.listDeliveries(ownedProject(res).id, String(req.params.endpointId));
    res.json({ deliveries: rows.map(presentDelivery) });
  });

  router.delete('/projects/:projectId/notifications/:endpointId', async (req, res) => {
    await notifications.deleteEndpoint(ownedProject(res).id, String(req.params.endpointId));
    res.status(204).end();
  });

  return router;
}
