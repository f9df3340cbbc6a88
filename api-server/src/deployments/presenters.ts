import type { Deployment } from '@platform/contracts';
import { iso } from '../http/iso.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import type { DeploymentRow } from './deployments-repo.ts';

export function presentDeployment(row: DeploymentRow, project: Pick<ProjectRow, 'slug'>, urls: Urls): Deployment {
  return {
    id: row.id,
    projectId: row.project_id,
    status: row.status,
    target: row.target,
    ref: row.ref,
    commit: row.commit_sha,
    errorMessage: row.error_message,
    ...(row.status === 'QUEUED' && !row.launched_at && row.launch_error ? { waitingReason: row.launch_error } : {}),
    useBuildCache: row.use_build_cache,
    nodeVersion: row.node_version ?? null,
    url: urls.url(urls.deploymentHost(project.slug, row.id)),
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}
