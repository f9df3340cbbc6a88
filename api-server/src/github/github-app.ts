import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';

/** The operator's GitHub App (GITHUB_APP_* settings). */
export interface GithubAppOptions {
  appId: number;
  /** The App's private key (PEM), which signs the RS256 JWT exchanged for installation tokens. */
  privateKey: string;
  /** Secret of the App's webhook: its deliveries are signed with it. */
  webhookSecret: string;
  /** OAuth client of the App: proves which GitHub user connects an installation. */
  clientId: string;
  clientSecret: string;
  /** The App's public page name, for the install link (`https://github.com/apps/<slug>/installations/new`). */
  slug: string;
  /** GitHub's REST API. Default https://api.github.com (GitHub Enterprise: https://<host>/api/v3). */
  apiUrl: string;
  /** GitHub's web address, for the install link. Default https://github.com. */
  webUrl: string;
}

export interface InstallationRepository {
  id: number;
  full_name: string;
  private: boolean;
  default_branch: string;
  clone_url: string;
}

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

/** A failure to reach GitHub or an answer it gave; `status` is GitHub's HTTP status (absent: no answer). */
export class GithubCallError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const USER_AGENT = 'platform-github-app';

/**
 * GitHub's REST API as the App: `@octokit/auth-app` signs the App's JWT (RS256, `iss` the App
 * id, issued 60 s in the past against clock drift, ten minutes at most) and exchanges it for
 * installation tokens (one hour), cached until shortly before they expire.
 */
export class GithubApp {
  private readonly app: Octokit;

  constructor(readonly options: GithubAppOptions) {
    this.app = new Octokit({
      baseUrl: options.apiUrl,
      userAgent: USER_AGENT,
      authStrategy: createAppAuth,
      auth: { appId: options.appId, privateKey: options.privateKey, clientId: options.clientId, clientSecret: options.clientSecret },
    });
  }

  installUrl(): string {
    return `${this.options.webUrl.replace(/\/$/, '')}/apps/${encodeURIComponent(this.options.slug)}/installations/new`;
  }

  /**
   * A token for one build's clone: scoped to the one repository and to reading its contents,
   * so a build holding it can read nothing else of the installation and write nowhere.
   */
  async cloneToken(installationId: number, repositoryId: number): Promise<string> {
    const auth = (await this.call(() =>
      this.app.auth({ type: 'installation', installationId, repositoryIds: [repositoryId], permissions: { contents: 'read' } }),
    )) as { token: string };
    return auth.token;
  }

  /** The installations the GitHub user behind `code` (the setup redirect's OAuth code) can reach. */
  async userInstallations(code: string): Promise<{ id: number; account: { login: string } }[]> {
    const user = (await this.call(() => this.app.auth({ type: 'oauth-user', code }))) as { token: string };
    const octokit = new Octokit({ baseUrl: this.options.apiUrl, userAgent: USER_AGENT, auth: user.token });
    const { data } = await this.call(() => octokit.request('GET /user/installations', { per_page: 100 }));
    return (data.installations as { id: number; account: { login?: string } | null }[]).map((i) => ({ id: i.id, account: { login: i.account?.login ?? '' } }));
  }

  async repositories(installationId: number): Promise<InstallationRepository[]> {
    const octokit = await this.installation(installationId);
    const { data } = await this.call(() => octokit.request('GET /installation/repositories', { per_page: 100 }));
    return data.repositories as InstallationRepository[];
  }

  async createStatus(
    installationId: number,
    repo: string,
    sha: string,
    status: { state: CommitState; target_url: string; description: string; context: string },
  ): Promise<void> {
    const [owner, name] = splitRepo(repo);
    const octokit = await this.installation(installationId);
    await this.call(() => octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', { owner, repo: name, sha, ...status }));
  }

  /** Creates the pull request's comment; returns its id. */
  async createComment(installationId: number, repo: string, issueNumber: number, body: string): Promise<number> {
    const [owner, name] = splitRepo(repo);
    const octokit = await this.installation(installationId);
    const { data } = await this.call(() =>
      octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo: name, issue_number: issueNumber, body }),
    );
    return Number(data.id);
  }

  async updateComment(installationId: number, repo: string, commentId: number, body: string): Promise<void> {
    const [owner, name] = splitRepo(repo);
    const octokit = await this.installation(installationId);
    await this.call(() => octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { owner, repo: name, comment_id: commentId, body }));
  }

  private async installation(installationId: number): Promise<Octokit> {
    const auth = (await this.call(() => this.app.auth({ type: 'installation', installationId }))) as { token: string };
    return new Octokit({ baseUrl: this.options.apiUrl, userAgent: USER_AGENT, auth: auth.token });
  }

  /** Octokit's errors carry the request (and its Authorization header): only the status and a message go on. */
  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const status = (err as { status?: number }).status;
      const message = (err as Error).message?.split('\n')[0]?.slice(0, 300) ?? 'request failed';
      throw new GithubCallError(`GitHub answered ${status ?? 'nothing'}: ${message}`, typeof status === 'number' ? status : undefined);
    }
  }
}

function splitRepo(fullName: string): [string, string] {
  const [owner, name] = fullName.split('/');
  if (!owner || !name) throw new GithubCallError(`not a repository name: ${fullName.slice(0, 100)}`);
  return [owner, name];
}
