import type { RequestHandler, Response } from 'express';
import { currentUser } from '../auth/require-user.ts';
import { guarded, requireOwned } from '../http/owner-guard.ts';
import type { ProjectsRepo } from '../projects/projects-repo.ts';
import type { DeploymentRow, DeploymentsRepo } from './deployments-repo.ts';

/** Mounted on `/deployments/:deploymentId`: the caller must own its project, else 404. */
export function requireOwnedDeployment(projects: Pick<ProjectsRepo, 'getOwned'>, deployments: Pick<DeploymentsRepo, 'get'>): RequestHandler {
  return requireOwned('deploymentId', 'deployment', async (id, res) => {
    const deployment = await deployments.get(id);
    const project = deployment ? await projects.getOwned(deployment.project_id, currentUser(res).id) : null;
    return deployment && project ? { project, deployment } : null;
  });
}

export const ownedDeployment = (res: Response): DeploymentRow => guarded<DeploymentRow>(res, 'deployment');
