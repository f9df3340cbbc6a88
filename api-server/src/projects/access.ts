import type { RequestHandler, Response } from 'express';
import { currentUser } from '../auth/require-user.ts';
import { guarded, requireOwned } from '../http/owner-guard.ts';
import type { ProjectRow, ProjectsRepo } from './projects-repo.ts';

/**
 * Mounted on `/projects/:projectId` (every sub-path, including routes other features add,
 * such as analytics): the caller must own the project, else 404.
 */
export function requireOwnedProject(projects: Pick<ProjectsRepo, 'getOwned'>): RequestHandler {
  return requireOwned('projectId', 'project', async (id, res) => {
    const project = await projects.getOwned(id, currentUser(res).id);
    return project ? { project } : null;
  });
}

export const ownedProject = (res: Response): ProjectRow => guarded<ProjectRow>(res, 'project');
