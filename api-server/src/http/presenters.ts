import type { Deployment, Project } from '@platform/contracts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function presentProject(row: ProjectRow, urls: Urls): Project {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    gitUrl: row.git_url,
    productionBranch: row.production_branch,
    rootDirectory: row.root_directory,
    installCommand: row.install_command,
    buildCommand: row.build_command,
    outputDirectory: row.output_directory,
    spa: row.spa,
    url: urls.url(urls.productionHost(row.slug)),
    createdAt: iso(row.created_at)!,
  };
}

export function presentDeployment(row: DeploymentRow, project: Pick<ProjectRow, 'slug'>, urls: Urls): Deployment {
  return {
    id: row.id,
    projectId: row.project_id,
    status: row.status,
    target: row.target,
    ref: row.ref,
    commit: row.commit_sha,
    errorMessage: row.error_message,
    useBuildCache: row.use_build_cache,
    url: urls.url(urls.deploymentHost(project.slug, row.id)),
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}
