import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import { presentDeployment } from '../deployments/presenters.ts';

/** An uploaded content as the API answers it. */
export const presentUploaded = (stored: { hash: string; size: number; stored: boolean }) => ({ hash: stored.hash, size: stored.size, stored: stored.stored });

/** A deployment made from uploads: the same shape as any deployment. */
export const presentDirectDeployment = (row: DeploymentRow, project: ProjectRow, urls: Urls) => presentDeployment(row, project, urls);
