import type { Project } from '@platform/contracts';
import { iso } from '../http/iso.ts';
import type { Urls } from '../urls.ts';
import type { ProjectRow } from './projects-repo.ts';

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
    nodeVersion: row.node_version ?? null,
    ignoreCommand: row.ignore_command ?? null,
    url: urls.url(urls.productionHost(row.slug)),
    createdAt: iso(row.created_at)!,
  };
}

/** Where a project's GitHub webhook goes, with its secret: shown once, on creation and rotation. */
export function presentGithubWebhook(projectId: string, secret: string): { url: string; secret: string } {
  return { url: `/webhooks/github?projectId=${projectId}`, secret };
}
