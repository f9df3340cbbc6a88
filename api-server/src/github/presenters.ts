import type { GitCredentials, GithubInstallation, GithubLink, GithubRepository, PullRequest } from '@platform/contracts';
import { iso } from '../http/iso.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import type { InstallationRepository } from './github-app.ts';
import type { GitCredentialRow, InstallationRow, ProjectLinkRow, PullRequestRow } from './github-repo.ts';

export const presentInstallation = (row: InstallationRow): GithubInstallation => ({
  id: Number(row.id),
  accountLogin: row.account_login,
  createdAt: iso(row.created_at)!,
});

export const presentRepository = (r: InstallationRepository): GithubRepository => ({
  id: r.id,
  fullName: r.full_name,
  private: r.private,
  defaultBranch: r.default_branch,
  cloneUrl: r.clone_url,
});

export const presentLink = (row: ProjectLinkRow): GithubLink => ({
  installationId: Number(row.installation_id),
  repositoryId: Number(row.repository_id),
  fullName: row.full_name,
});

/** Never the secret: the kind, and a deploy key's public half. */
export const presentCredentials = (row: GitCredentialRow): GitCredentials => ({ kind: row.kind, publicKey: row.public_key, createdAt: iso(row.created_at)! });

export const presentPullRequest = (row: PullRequestRow, project: ProjectRow, urls: Urls): PullRequest => ({
  number: row.number,
  title: row.title,
  url: row.html_url,
  branch: row.branch,
  headSha: row.head_sha,
  fork: row.fork,
  state: row.state,
  awaitingApproval: row.awaiting_sha,
  aliasUrl: urls.url(urls.pullRequestHost(project.slug, row.number)),
  updatedAt: iso(row.updated_at)!,
});
