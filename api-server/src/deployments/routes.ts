import { Router } from 'express';
import { z } from 'zod';
import { HttpError, notFound, parseBody } from '../errors.ts';
import type { DeploymentsRepo } from './deployments-repo.ts';
import type { Scheduler } from './scheduler.ts';

const cancelBodySchema = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();

/** Controls over a deployment's build: cancel. */
export function deploymentControlRoutes(deps: { scheduler: Scheduler; deployments: DeploymentsRepo }): Router {
  const router = Router();

  // Stops the build (if it runs) and ends the deployment CANCELED; 409 when it had already ended.
  router.post('/deployments/:id/cancel', async (req, res) => {
    const body = parseBody(cancelBodySchema, req.body);
    const reason = body.reason ? `canceled: ${body.reason}` : 'canceled by the user';
    const deployment = await deps.deployments.get(req.params.id);
    if (!deployment) throw notFound('deployment');
    if (!(await deps.scheduler.cancel(deployment.id, reason))) {
      const now = await deps.deployments.get(deployment.id);
      throw new HttpError(409, 'already_finished', `deployment ${deployment.id} already ended with status ${now?.status ?? deployment.status}`);
    }
    res.status(202).json({ deployment: { id: deployment.id, status: 'CANCELED', errorMessage: reason } });
  });

  return router;
}
