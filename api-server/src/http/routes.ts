import { Router } from 'express';
import {
  createDeploymentBodySchema,
  createProjectBodySchema,
  parseCommandLine,
  validateGitUrl,
} from '@platform/contracts';
import { HttpError, notFound, parseBody } from '../errors.ts';
import type { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import type { Scheduler } from '../deployments/scheduler.ts';
import type { ProjectsRepo } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import { presentDeployment, presentProject } from './presenters.ts';

export interface RouteDeps {
  projects: ProjectsRepo;
  deployments: DeploymentsRepo;
  scheduler: Scheduler;
  urls: Urls;
  allowLocalGit: boolean;
}

export function apiRoutes(deps: RouteDeps): Router {
  const router = Router();
  const { projects, deployments, urls } = deps;

  router.post('/project', async (req, res) => {
    const body = parseBody(createProjectBodySchema, req.body);
    try {
      validateGitUrl(body.gitUrl, { allowLocal: deps.allowLocalGit });
    } catch (err) {
      throw new HttpError(400, 'invalid_body', `invalid request body: gitUrl: ${(err as Error).message}`);
    }
    for (const field of ['installCommand', 'buildCommand'] as const) {
      const line = body[field];
      if (line === undefined) continue;
      try {
        parseCommandLine(line);
      } catch (err) {
        throw new HttpError(400, 'invalid_body', `invalid request body: ${field}: ${(err as Error).message}`);
      }
    }
    const project = await projects.create(body);
    res.status(201).json({ project: presentProject(project, urls) });
  });

  router.get('/projects', async (_req, res) => {
    const rows = await projects.list();
    res.json({ projects: rows.map((row) => presentProject(row, urls)) });
  });

  router.get('/projects/:id', async (req, res) => {
    const project = await projects.get(req.params.id);
    if (!project) throw notFound('project');
    res.json({ project: presentProject(project, urls) });
  });

  router.post('/deploy', async (req, res) => {
    const body = parseBody(createDeploymentBodySchema, req.body);
    const project = await projects.get(body.projectId);
    if (!project) throw new HttpError(404, 'not_found', `project ${body.projectId} not found`);
    const ref = body.ref ?? project.production_branch;
    const deployment = await deployments.create({
      projectId: project.id,
      target: ref === project.production_branch ? 'production' : 'preview',
      ref,
      commit: body.commit ?? null,
    });
    deps.scheduler.kick();
    res.status(202).json({ deployment: presentDeployment(deployment, project, urls) });
  });

  router.get('/deployments/:id', async (req, res) => {
    const deployment = await deployments.get(req.params.id);
    if (!deployment) throw notFound('deployment');
    const project = await projects.get(deployment.project_id);
    if (!project) throw notFound('deployment');
    res.json({ deployment: presentDeployment(deployment, project, urls) });
  });

  return router;
}
