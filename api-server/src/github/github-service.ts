import { validateGitUrl, type ConnectInstallationBody, type LinkGithubRepositoryBody, type SetGitCredentialsBody } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Deployer } from '../deployments/deployer.ts';
import type { DeploymentLifecycle } from '../deployments/deployment-lifecycle.ts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { RoutePublisher } from '../deployments/route-publisher.ts';
import type { ProjectRow, ProjectsRepo } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import type { GitEvents } from '../webhooks/git-events.ts';
import type { PullRequestInfo } from '../webhooks/pull-requests.ts';
import { GithubCallError, type GithubApp, type InstallationRepository } from './github-app.ts';
import type { GitCredentialRow, GithubRepo, InstallationRow, ProjectLinkRow, PullRequestRow } from './github-repo.ts';
import {
  GithubAppNotConfigured,
  GithubSignInFailed,
  InstallationNotAccessible,
  InstallationNotFound,
  NothingToApprove,
  PullRequestNotFound,
  RepositoryNotInInstallation,
} from './errors.ts';
import { generateDeployKey } from './ssh-keys.ts';
import { systemVariables } from './system-variables.ts';

/** Encryption context of a project's git credential: a ciphertext moved to another project does not open. */
export const gitCredentialContext = (projectId: string) => `git-credential:${projectId}`;

export interface GitServiceDeps {
  repo: GithubRepo;
  app: GithubApp | null;
  projects: Pick<ProjectsRepo, 'update'>;
  deployer: Pick<Deployer, 'deploy'>;
  lifecycle: Pick<DeploymentLifecycle, 'cancel'>;
  routes: Pick<RoutePublisher, 'unpublishHosts'>;
  box: SecretBox;
  urls: Urls;
  localGitRoots: readonly string[];
  logger: Logger;
}

/** What a build is handed for its clone (to the supervisor only) and the system variables of its commands. */
export interface BuildAccess {
  gitToken?: string;
  gitSshKey?: string;
  systemEnv: Record<string, string>;
}

/**
 * The git integration: the GitHub App's installations and repositories, a project's link to
 * one, credentials for other hosts, pull requests (their previews, aliases and a fork's
 * approval), and what each build gets to clone with.
 */
export class GitService implements GitEvents {
  private readonly log: Logger;

  constructor(private readonly deps: GitServiceDeps) {
    this.log = deps.logger.child({ component: 'git' });
  }

  get appWebhookSecret(): string | null {
    return this.deps.app?.options.webhookSecret ?? null;
  }

  appInfo(): { configured: boolean; installUrl: string | null } {
    return { configured: this.deps.app !== null, installUrl: this.deps.app?.installUrl() ?? null };
  }

  /**
   * Binds an installation to the account, once GitHub confirms (through the user's sign-in
   * code) that the GitHub user can reach it: knowing an installation id proves nothing.
   */
  async connectInstallation(ownerId: string, body: ConnectInstallationBody): Promise<InstallationRow> {
    const app = this.requireApp();
    let reachable: { id: number; account: { login: string } }[];
    try {
      reachable = await app.userInstallations(body.code);
    } catch (err) {
      throw new GithubSignInFailed(err instanceof GithubCallError ? err.message : 'GitHub could not be reached');
    }
    const found = reachable.find((i) => i.id === body.installationId);
    if (!found) throw new InstallationNotAccessible(body.installationId);
    return this.deps.repo.addInstallation(found.id, ownerId, found.account.login);
  }

  listInstallations(ownerId: string): Promise<InstallationRow[]> {
    return this.deps.repo.listInstallations(ownerId);
  }

  async listRepositories(ownerId: string, installationId: number): Promise<InstallationRepository[]> {
    const app = this.requireApp();
    if (!(await this.deps.repo.getInstallation(installationId, ownerId))) throw new InstallationNotFound();
    return app.repositories(installationId);
  }

  /** Builds the project from a repository of one of the owner's installations; its git URL becomes the repository's. */
  async linkRepository(project: ProjectRow, ownerId: string, body: LinkGithubRepositoryBody): Promise<ProjectLinkRow> {
    const repositories = await this.listRepositories(ownerId, body.installationId);
    const repository = repositories.find((r) => r.id === body.repositoryId);
    if (!repository) throw new RepositoryNotInInstallation();
    const gitUrl = validateGitUrl(repository.clone_url, { localRoots: this.deps.localGitRoots });
    if (gitUrl !== project.git_url) await this.deps.projects.update(project.id, { gitUrl });
    return this.deps.repo.link(project.id, { installationId: body.installationId, repositoryId: repository.id, fullName: repository.full_name });
  }

  getLink(project: ProjectRow): Promise<ProjectLinkRow | null> {
    return this.deps.repo.getLink(project.id);
  }

  /** Idempotent: nothing linked, nothing to do. */
  async unlink(project: ProjectRow): Promise<void> {
    await this.deps.repo.unlink(project.id);
  }

  /** Stores the credential encrypted; for `ssh-key`, generates the key pair and returns the public half. */
  async setCredentials(project: ProjectRow, body: SetGitCredentialsBody): Promise<GitCredentialRow> {
    const context = gitCredentialContext(project.id);
    if (body.kind === 'https-token') {
      return this.deps.repo.setCredential(project.id, { kind: 'https-token', secretEnc: this.deps.box.seal(body.token, context), publicKey: null });
    }
    const key = generateDeployKey(`deploy-${project.slug}`);
    return this.deps.repo.setCredential(project.id, { kind: 'ssh-key', secretEnc: this.deps.box.seal(key.privateKey, context), publicKey: key.publicKey });
  }

  getCredentials(project: ProjectRow): Promise<GitCredentialRow | null> {
    return this.deps.repo.getCredential(project.id);
  }

  /** Idempotent: none set, nothing to do. */
  async deleteCredentials(project: ProjectRow): Promise<void> {
    await this.deps.repo.deleteCredential(project.id);
  }

  listPullRequests(project: ProjectRow): Promise<PullRequestRow[]> {
    return this.deps.repo.listPullRequests(project.id);
  }

  /** Builds the fork's head commit that waits; only its owner gets here (the project guard). */
  async approve(project: ProjectRow, number: number): Promise<DeploymentRow> {
    const pr = await this.deps.repo.getPullRequest(project.id, number);
    if (!pr) throw new PullRequestNotFound();
    if (!pr.awaiting_sha || !(await this.deps.repo.takeApproval(project.id, number, pr.awaiting_sha))) throw new NothingToApprove(number);
    const deployment = await this.deps.deployer.deploy(project, { ref: `pull/${number}/head`, commit: pr.awaiting_sha, target: 'preview' });
    await this.deps.repo.tagDeployment({ deploymentId: deployment.id, projectId: project.id, prNumber: number, fork: true });
    this.log.info({ projectId: project.id, pullRequest: number, deploymentId: deployment.id }, 'fork build approved');
    return deployment;
  }

  /** The clone credential and system variables of one build; a fork's build gets no credential of the project's beyond the App's read-only token. */
  async buildAccess(project: ProjectRow, deployment: DeploymentRow): Promise<BuildAccess> {
    const [link, credential, git] = await Promise.all([
      this.deps.repo.getLink(project.id),
      this.deps.repo.getCredential(project.id),
      this.deps.repo.deploymentGit(deployment.id),
    ]);
    const systemEnv = systemVariables({ project, deployment, urls: this.deps.urls, pullRequest: git?.pr_number ?? null, repository: link?.full_name ?? null });
    if (link && this.deps.app) {
      const gitToken = await this.deps.app.cloneToken(Number(link.installation_id), Number(link.repository_id));
      return { gitToken, systemEnv };
    }
    if (!credential) return { systemEnv };
    const secret = this.deps.box.open(credential.secret_enc, gitCredentialContext(project.id));
    return credential.kind === 'https-token' ? { gitToken: secret, systemEnv } : { gitSshKey: secret, systemEnv };
  }

  /** A fork's build runs a stranger's code: it gets none of the project's env vars. */
  async isForkBuild(deploymentId: string): Promise<boolean> {
    return (await this.deps.repo.deploymentGit(deploymentId))?.fork === true;
  }

  /** The `-pr-<n>` alias that follows a pull request's branch. */
  async branchAliases(deployment: DeploymentRow, project: ProjectRow): Promise<string[]> {
    const git = await this.deps.repo.deploymentGit(deployment.id);
    return git?.pr_number ? [this.deps.urls.pullRequestHost(project.slug, git.pr_number)] : [];
  }

  // --- GitEvents: what the webhooks hand over ---

  async isLinked(projectId: string): Promise<boolean> {
    return (await this.deps.repo.getLink(projectId)) !== null;
  }

  async linkedProjectIds(repositoryId: number): Promise<string[]> {
    return (await this.deps.repo.linkedProjectIds(repositoryId)).map((r) => r.project_id);
  }

  async pullRequestSeen(project: ProjectRow, pr: PullRequestInfo, awaitingApproval: boolean): Promise<void> {
    await this.deps.repo.upsertPullRequest({
      project_id: project.id,
      number: pr.number,
      title: pr.title,
      html_url: pr.htmlUrl,
      branch: pr.ref,
      head_sha: pr.headSha,
      fork: pr.fork,
      state: 'open',
      awaiting_sha: awaitingApproval ? pr.headSha : null,
    });
  }

  async pullRequestDeployed(project: ProjectRow, pr: PullRequestInfo, deployment: DeploymentRow): Promise<void> {
    await this.deps.repo.tagDeployment({ deploymentId: deployment.id, projectId: project.id, prNumber: pr.number, fork: pr.fork });
  }

  /** The branch's alias and its pull requests' aliases go; its unfinished builds are canceled. */
  async unpublish(project: ProjectRow, branch: string, pr?: PullRequestInfo): Promise<string[]> {
    const numbers = new Set<number>(pr ? [pr.number] : []);
    for (const open of await this.deps.repo.openPullRequestsOf(project.id, branch)) numbers.add(open.number);
    for (const n of numbers) await this.deps.repo.closePullRequest(project.id, n);
    const hosts = [...numbers].map((n) => this.deps.urls.pullRequestHost(project.slug, n));
    // The production branch keeps its alias and builds even if a pull request from it closes.
    if (branch !== project.production_branch) {
      hosts.push(this.deps.urls.branchHost(project.slug, branch));
      for (const { id } of await this.deps.repo.unfinishedOfBranch(project.id, branch)) {
        await this.deps.lifecycle.cancel(id, `branch ${branch} went away (pull request closed or branch deleted)`);
      }
    }
    const removed = await this.deps.routes.unpublishHosts(project, hosts);
    this.log.info({ projectId: project.id, branch, removed }, 'branch unpublished');
    return removed;
  }

  private requireApp(): GithubApp {
    if (!this.deps.app) throw new GithubAppNotConfigured();
    return this.deps.app;
  }
}
