import type { RequestHandler, Response } from 'express';
import { currentUser } from '../auth/auth.ts';
import type { DeploymentRow, DeploymentsRepo } from '../deployments/deployments-repo.ts';
import { HttpError } from '../errors.ts';
import type { ProjectRow, ProjectsRepo } from './projects-repo.ts';

/**
 * Tenant isolation in one place. Mounted on `/projects/:projectId` (every sub-path, including
 * routes other modules add later, such as analytics) and `/deployments/:deploymentId`: the
 * caller must own the project, else 404, the same answer as for a project that does not
 * exist, so ids cannot be probed.
 */
/** Every id the platform makes has this shape; anything else cannot exist. */
const VALID_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function requireOwnedProject(projects: ProjectsRepo): RequestHandler {
  return async (req, res, next) => {
    const id = String(req.params.projectId ?? '');
    const project = VALID_ID.test(id) ? await projects.getOwned(id, currentUser(res).id) : null;
    if (!project) throw new HttpError(404, 'not_found', 'project not found');
    res.locals.project = project;
    next();
  };
}

export function requireOwnedDeployment(projects: ProjectsRepo, deployments: DeploymentsRepo): RequestHandler {
  return async (req, res, next) => {
    const id = String(req.params.deploymentId ?? '');
    const deployment = VALID_ID.test(id) ? await deployments.get(id) : null;
    const project = deployment ? await projects.getOwned(deployment.project_id, currentUser(res).id) : null;
    if (!deployment || !project) throw new HttpError(404, 'not_found', 'deployment not found');
    res.locals.project = project;
    res.locals.deployment = deployment;
    next();
  };
}

export function ownedProject(res: Response): ProjectRow {
  const project = res.locals.project as ProjectRow | undefined;
  if (!project) throw new Error('route mounted without the project-owner guard');
  return project;
}

export function ownedDeployment(res: Response): DeploymentRow {
  const deployment = res.locals.deployment as DeploymentRow | undefined;
  if (!deployment) throw new Error('route mounted without the deployment-owner guard');
  return deployment;
}
