import { Router, type Request, type Response } from 'express';
import { projectBodySchemas } from '@platform/contracts';
import { currentUser } from '../auth/require-user.ts';
import { parseBody } from '../http/errors.ts';
import type { Urls } from '../urls.ts';
import { ownedProject } from './access.ts';
import { presentGithubWebhook, presentProject } from './presenters.ts';
import type { ProjectsService } from './projects-service.ts';

/**
 * Projects. Mounted after `requireUser` and the owner guard on `/projects/:projectId`, so
 * every handler here may assume the caller owns what it touches.
 */
export function projectRoutes(deps: { projects: ProjectsService; urls: Urls; localGitRoots: readonly string[] }): Router {
  const router = Router();
  const { projects, urls } = deps;
  // The same schemas the OpenAPI document shows: local paths only where the operator allows them.
  const bodies = projectBodySchemas({ localRoots: deps.localGitRoots });

  const create = async (req: Request, res: Response) => {
    const body = parseBody(bodies.create, req.body);
    const { project, githubSecret } = await projects.create(body, currentUser(res).id);
    res.status(201).json({
      project: presentProject(project, urls),
      // Shown once: paste both into the repository's Settings → Webhooks (content type application/json).
      githubWebhook: presentGithubWebhook(project.id, githubSecret),
    });
  };
  router.post('/projects', create);
  // The original design's path, kept for its clients.
  router.post('/project', create);

  router.get('/projects', async (_req, res) => {
    const rows = await projects.listOwned(currentUser(res).id);
    res.json({ projects: rows.map((row) => presentProject(row, urls)) });
  });

  router.get('/projects/:projectId', async (_req, res) => {
    const project = ownedProject(res);
    const productionDeploymentId = await projects.productionDeploymentId(project);
    res.json({ project: { ...presentProject(project, urls), productionDeploymentId } });
  });

  router.patch('/projects/:projectId', async (req, res) => {
    const body = parseBody(bodies.update, req.body);
    res.json({ project: presentProject(await projects.update(ownedProject(res), body), urls) });
  });

  router.delete('/projects/:projectId', async (_req, res) => {
    await projects.delete(ownedProject(res));
    res.status(204).end();
  });

  router.post('/projects/:projectId/github-webhook/secret', async (_req, res) => {
    const project = ownedProject(res);
    res.json({ githubWebhook: presentGithubWebhook(project.id, await projects.rotateGithubSecret(project)) });
  });

  return router;
}
