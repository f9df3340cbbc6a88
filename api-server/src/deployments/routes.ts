import { Router } from 'express';
import { cancelDeploymentBodySchema, createDeploymentBodySchema, listDeploymentsQuerySchema, redeployBodySchema } from '@platform/contracts';
import { currentUser } from '../auth/require-user.ts';
import { parseBody, parseQuery } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { ProjectsService } from '../projects/projects-service.ts';
import type { Urls } from '../urls.ts';
import { ownedDeployment } from './access.ts';
import type { DeploymentsService } from './deployments-service.ts';
import { presentDeployment } from './presenters.ts';

/**
 * Deployments. Mounted after `requireUser` and the owner guards on `/projects/:projectId`
 * and `/deployments/:deploymentId`, so every handler here may assume the caller owns what
 * it touches.
 */
export function deploymentRoutes(deps: { deployments: DeploymentsService; projects: ProjectsService; urls: Urls }): Router {
  const router = Router();
  const { deployments, urls } = deps;

  router.get('/projects/:projectId/deployments', async (req, res) => {
    const project = ownedProject(res);
    const query = parseQuery(listDeploymentsQuerySchema, req.query);
    const rows = await deployments.list(project, query);
    const last = rows.at(-1);
    res.json({
      deployments: rows.map((row) => presentDeployment(row, project, urls)),
      next: rows.length === query.limit && last ? last.id : null,
    });
  });

  router.post('/deploy', async (req, res) => {
    const body = parseBody(createDeploymentBodySchema, req.body);
    const project = await deps.projects.requireOwned(body.projectId, currentUser(res).id);
    const deployment = await deployments.deploy(project, { ref: body.ref, commit: body.commit });
    res.status(202).json({ deployment: presentDeployment(deployment, project, urls) });
  });

  router.get('/deployments/:deploymentId', (_req, res) => {
    res.json({ deployment: presentDeployment(ownedDeployment(res), ownedProject(res), urls) });
  });

  router.post('/deployments/:deploymentId/cancel', async (req, res) => {
    const body = parseBody(cancelDeploymentBodySchema, req.body);
    const reason = body.reason ? `canceled: ${body.reason}` : `canceled by ${currentUser(res).email}`;
    const deployment = await deployments.cancel(ownedDeployment(res), reason);
    res.status(202).json({ deployment: presentDeployment(deployment, ownedProject(res), urls) });
  });

  router.post('/deployments/:deploymentId/redeploy', async (req, res) => {
    const body = parseBody(redeployBodySchema, req.body);
    const project = ownedProject(res);
    const deployment = await deployments.redeploy(ownedDeployment(res), project, { useBuildCache: body.useBuildCache });
    res.status(202).json({ deployment: presentDeployment(deployment, project, urls) });
  });

  router.post('/deployments/:deploymentId/promote', async (_req, res) => {
    const deployment = ownedDeployment(res);
    const project = ownedProject(res);
    const host = await deployments.promote(deployment, project);
    res.json({ deployment: presentDeployment(deployment, project, urls), productionUrl: urls.url(host) });
  });

  return router;
}
