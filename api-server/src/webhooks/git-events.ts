import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { PullRequestInfo } from './pull-requests.ts';

/**
 * What the webhooks need of the git integration (declared here, implemented by
 * `github/GitService`, wired by the composition): which projects the GitHub App builds,
 * and what pull requests and deleted branches do to them.
 */
export interface GitEvents {
  /** The App's webhook secret; null when no App is configured. */
  readonly appWebhookSecret: string | null;
  isLinked(projectId: string): Promise<boolean>;
  linkedProjectIds(repositoryId: number): Promise<string[]>;
  pullRequestSeen(project: ProjectRow, pr: PullRequestInfo, awaitingApproval: boolean): Promise<void>;
  pullRequestDeployed(project: ProjectRow, pr: PullRequestInfo, deployment: DeploymentRow): Promise<void>;
  unpublish(project: ProjectRow, branch: string, pr?: PullRequestInfo): Promise<string[]>;
}
