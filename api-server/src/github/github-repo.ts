import { randomId } from '@platform/contracts';
import type { Db, DbExecutor } from '@platform/db';

export interface InstallationRow {
  id: string;
  owner_id: string;
  account_login: string;
  created_at: Date;
}

export interface ProjectLinkRow {
  project_id: string;
  installation_id: string;
  repository_id: string;
  full_name: string;
  created_at: Date;
}

export interface GitCredentialRow {
  project_id: string;
  kind: 'https-token' | 'ssh-key';
  secret_enc: string;
  public_key: string | null;
  created_at: Date;
}

export interface PullRequestRow {
  project_id: string;
  number: number;
  title: string;
  html_url: string | null;
  branch: string;
  head_sha: string;
  fork: boolean;
  state: 'open' | 'closed';
  awaiting_sha: string | null;
  comment_id: string | null;
  updated_at: Date;
}

export interface DeploymentGitRow {
  deployment_id: string;
  project_id: string;
  pr_number: number | null;
  fork: boolean;
  reported_status: string | null;
}

/** A deployment whose status GitHub has not been told yet, with what the report needs. */
export interface UnreportedRow {
  id: string;
  project_id: string;
  status: string;
  target: 'production' | 'preview';
  ref: string | null;
  commit_sha: string | null;
  error_message: string | null;
  slug: string;
  installation_id: string;
  full_name: string;
  pr_number: number | null;
}

export interface OutboxRow {
  id: string;
  seq: string;
  project_id: string;
  deployment_id: string;
  kind: 'status' | 'comment';
  ordering_key: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error: string | null;
}

/** Every statement on the git integration's tables (006_git.sql). */
export class GithubRepo {
  constructor(private readonly db: Db) {}

  async addInstallation(id: number, ownerId: string, accountLogin: string): Promise<InstallationRow> {
    const rows = await this.db.query<InstallationRow>(
      `INSERT INTO github_installations (id, owner_id, account_login) VALUES ($1, $2, $3)
       ON CONFLICT (id, owner_id) DO UPDATE SET account_login = EXCLUDED.account_login RETURNING *`,
      [id, ownerId, accountLogin],
    );
    return rows[0]!;
  }

  async getInstallation(id: number, ownerId: string): Promise<InstallationRow | null> {
    const rows = await this.db.query<InstallationRow>('SELECT * FROM github_installations WHERE id = $1 AND owner_id = $2', [id, ownerId]);
    return rows[0] ?? null;
  }

  listInstallations(ownerId: string): Promise<InstallationRow[]> {
    return this.db.query<InstallationRow>('SELECT * FROM github_installations WHERE owner_id = $1 ORDER BY created_at, id', [ownerId]);
  }

  async link(projectId: string, link: { installationId: number; repositoryId: number; fullName: string }): Promise<ProjectLinkRow> {
    const rows = await this.db.query<ProjectLinkRow>(
      `INSERT INTO github_project_links (project_id, installation_id, repository_id, full_name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id) DO UPDATE SET installation_id = EXCLUDED.installation_id, repository_id = EXCLUDED.repository_id,
         full_name = EXCLUDED.full_name, created_at = now()
       RETURNING *`,
      [projectId, link.installationId, link.repositoryId, link.fullName],
    );
    return rows[0]!;
  }

  async getLink(projectId: string): Promise<ProjectLinkRow | null> {
    const rows = await this.db.query<ProjectLinkRow>('SELECT * FROM github_project_links WHERE project_id = $1', [projectId]);
    return rows[0] ?? null;
  }

  async unlink(projectId: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM github_project_links WHERE project_id = $1 RETURNING project_id', [projectId])).length > 0;
  }

  /** The projects the App builds for a repository, matched on GitHub's repository id (stable across renames). */
  linkedProjectIds(repositoryId: number): Promise<{ project_id: string }[]> {
    return this.db.query('SELECT project_id FROM github_project_links WHERE repository_id = $1 ORDER BY created_at, project_id', [repositoryId]);
  }

  async setCredential(projectId: string, c: { kind: GitCredentialRow['kind']; secretEnc: string; publicKey: string | null }): Promise<GitCredentialRow> {
    const rows = await this.db.query<GitCredentialRow>(
      `INSERT INTO git_credentials (project_id, kind, secret_enc, public_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id) DO UPDATE SET kind = EXCLUDED.kind, secret_enc = EXCLUDED.secret_enc, public_key = EXCLUDED.public_key, created_at = now()
       RETURNING *`,
      [projectId, c.kind, c.secretEnc, c.publicKey],
    );
    return rows[0]!;
  }

  async getCredential(projectId: string): Promise<GitCredentialRow | null> {
    const rows = await this.db.query<GitCredentialRow>('SELECT * FROM git_credentials WHERE project_id = $1', [projectId]);
    return rows[0] ?? null;
  }

  async deleteCredential(projectId: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM git_credentials WHERE project_id = $1 RETURNING project_id', [projectId])).length > 0;
  }

  async upsertPullRequest(
    pr: Pick<PullRequestRow, 'project_id' | 'number' | 'title' | 'html_url' | 'branch' | 'head_sha' | 'fork' | 'state'> & { awaiting_sha: string | null },
  ): Promise<PullRequestRow> {
    const rows = await this.db.query<PullRequestRow>(
      `INSERT INTO pull_requests (project_id, number, title, html_url, branch, head_sha, fork, state, awaiting_sha)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (project_id, number) DO UPDATE SET title = EXCLUDED.title, html_url = EXCLUDED.html_url, branch = EXCLUDED.branch,
         head_sha = EXCLUDED.head_sha, fork = EXCLUDED.fork, state = EXCLUDED.state, awaiting_sha = EXCLUDED.awaiting_sha, updated_at = now()
       RETURNING *`,
      [pr.project_id, pr.number, pr.title, pr.html_url, pr.branch, pr.head_sha, pr.fork, pr.state, pr.awaiting_sha],
    );
    return rows[0]!;
  }

  async getPullRequest(projectId: string, number: number): Promise<PullRequestRow | null> {
    const rows = await this.db.query<PullRequestRow>('SELECT * FROM pull_requests WHERE project_id = $1 AND number = $2', [projectId, number]);
    return rows[0] ?? null;
  }

  listPullRequests(projectId: string): Promise<PullRequestRow[]> {
    return this.db.query<PullRequestRow>('SELECT * FROM pull_requests WHERE project_id = $1 ORDER BY updated_at DESC, number DESC LIMIT 100', [projectId]);
  }

  /** The open pull requests from a branch (their aliases go when the branch does). */
  openPullRequestsOf(projectId: string, branch: string): Promise<PullRequestRow[]> {
    return this.db.query<PullRequestRow>(`SELECT * FROM pull_requests WHERE project_id = $1 AND branch = $2 AND state = 'open'`, [projectId, branch]);
  }

  /** Takes the approval: true for the one caller that cleared `awaiting_sha` (a double click deploys once). */
  async takeApproval(projectId: string, number: number, sha: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE pull_requests SET awaiting_sha = NULL, updated_at = now() WHERE project_id = $1 AND number = $2 AND awaiting_sha = $3 AND state = 'open' RETURNING number`,
      [projectId, number, sha],
    );
    return rows.length > 0;
  }

  async closePullRequest(projectId: string, number: number): Promise<void> {
    await this.db.query(`UPDATE pull_requests SET state = 'closed', awaiting_sha = NULL, updated_at = now() WHERE project_id = $1 AND number = $2`, [
      projectId,
      number,
    ]);
  }

  async setCommentId(projectId: string, number: number, commentId: number): Promise<void> {
    await this.db.query('UPDATE pull_requests SET comment_id = $3 WHERE project_id = $1 AND number = $2', [projectId, number, commentId]);
  }

  async tagDeployment(row: { deploymentId: string; projectId: string; prNumber: number | null; fork: boolean }): Promise<void> {
    await this.db.query(
      `INSERT INTO deployment_git (deployment_id, project_id, pr_number, fork) VALUES ($1, $2, $3, $4)
       ON CONFLICT (deployment_id) DO UPDATE SET pr_number = EXCLUDED.pr_number, fork = EXCLUDED.fork`,
      [row.deploymentId, row.projectId, row.prNumber, row.fork],
    );
  }

  async deploymentGit(deploymentId: string): Promise<DeploymentGitRow | null> {
    const rows = await this.db.query<DeploymentGitRow>('SELECT * FROM deployment_git WHERE deployment_id = $1', [deploymentId]);
    return rows[0] ?? null;
  }

  /** Deployments of a branch not finished yet (closing its pull request cancels them). */
  unfinishedOfBranch(projectId: string, branch: string): Promise<{ id: string }[]> {
    return this.db.query(`SELECT id FROM deployments WHERE project_id = $1 AND ref = $2 AND status IN ('QUEUED', 'BUILDING')`, [projectId, branch]);
  }

  /**
   * Turns new deployment statuses of App-linked projects into outbox rows, in one transaction
   * (`record` writes them with `tx`); each deployment is reported once per status. Only
   * deployments made after the project was linked are reported.
   */
  async collectUnreported(limit: number, record: (rows: UnreportedRow[], tx: DbExecutor) => Promise<void>): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<UnreportedRow>(
        `SELECT d.id, d.project_id, d.status, d.target, d.ref, d.commit_sha, d.error_message, p.slug, l.installation_id, l.full_name, g.pr_number
         FROM deployments d
         JOIN projects p ON p.id = d.project_id
         JOIN github_project_links l ON l.project_id = d.project_id
         LEFT JOIN deployment_git g ON g.deployment_id = d.id
         WHERE d.created_at >= l.created_at AND d.commit_sha IS NOT NULL AND g.reported_status IS DISTINCT FROM d.status
         ORDER BY d.created_at, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      await record(rows, tx);
      for (const row of rows) {
        await tx.query(
          `INSERT INTO deployment_git (deployment_id, project_id, reported_status) VALUES ($1, $2, $3)
           ON CONFLICT (deployment_id) DO UPDATE SET reported_status = EXCLUDED.reported_status`,
          [row.id, row.project_id, row.status],
        );
      }
      return rows.length;
    });
  }

  async enqueue(tx: DbExecutor, row: Pick<OutboxRow, 'project_id' | 'deployment_id' | 'kind' | 'ordering_key' | 'payload'>): Promise<void> {
    await tx.query(`INSERT INTO github_outbox (id, project_id, deployment_id, kind, ordering_key, payload) VALUES ($1, $2, $3, $4, $5, $6)`, [
      `gho_${randomId(16)}`,
      row.project_id,
      row.deployment_id,
      row.kind,
      row.ordering_key,
      row.payload,
    ]);
  }

  /**
   * Due rows, each the oldest pending one of its ordering key, leased for `leaseMs` so another
   * replica does not send it too.
   */
  claimDue(limit: number, leaseMs: number): Promise<OutboxRow[]> {
    return this.db.transaction((tx) =>
      tx.query<OutboxRow>(
        `UPDATE github_outbox SET next_attempt_at = now() + ($2::int * interval '1 millisecond')
         WHERE id IN (
           SELECT o.id FROM github_outbox o
           WHERE o.status = 'pending' AND o.next_attempt_at <= now()
             AND NOT EXISTS (SELECT 1 FROM github_outbox e WHERE e.ordering_key = o.ordering_key AND e.status = 'pending' AND e.seq < o.seq)
           ORDER BY o.seq LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [limit, leaseMs],
      ),
    );
  }

  async delivered(id: string): Promise<void> {
    await this.db.query(`UPDATE github_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = now(), last_error = NULL WHERE id = $1`, [id]);
  }

  async retryLater(id: string, delayMs: number, error: string, giveUp: boolean): Promise<void> {
    await this.db.query(
      `UPDATE github_outbox SET attempts = attempts + 1, last_error = $3, status = CASE WHEN $4::boolean THEN 'failed' ELSE 'pending' END,
         next_attempt_at = now() + ($2::int * interval '1 millisecond') WHERE id = $1`,
      [id, delayMs, error.slice(0, 1000), giveUp],
    );
  }

  listOutbox(deploymentId: string): Promise<OutboxRow[]> {
    return this.db.query<OutboxRow>('SELECT * FROM github_outbox WHERE deployment_id = $1 ORDER BY seq', [deploymentId]);
  }
}
