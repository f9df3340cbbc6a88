import { Router } from 'express';
import { updateRetentionBodySchema } from '@platform/contracts';
import { ownedDeployment } from '../deployments/access.ts';
import { parseBody } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { DataLifecycleService } from './data-lifecycle-service.ts';

/**
 * Deleting a deployment, a project's retention and storage usage. Mounted after
 * `requireUser` and the owner guards on `/projects/:projectId` and `/deployments/:deploymentId`.
 */
export function dataLifecycleRoutes(deps: { dataLifecycle: DataLifecycleService }): Router {
  const router = Router();
  const { dataLifecycle } = deps;

  router.delete('/deployments/:deploymentId', async (_req, res) => {
    await dataLifecycle.deleteDeployment(ownedDeployment(res), ownedProject(res));
    res.status(204).end();
  });

  router.get('/projects/:projectId/retention', (_req, res) => {
    res.json({ retention: dataLifecycle.retention(ownedProject(res)) });
  });

  router.patch('/projects/:projectId/retention', async (req, res) => {
    const body = parseBody(updateRetentionBodySchema, req.body);
    res.json({ retention: await dataLifecycle.updateRetention(ownedProject(res), body) });
  });

  router.get('/projects/:projectId/usage', async (_req, res) => {
    res.json({ usage: await dataLifecycle.usage(ownedProject(res)) });
  });

  return router;
}
