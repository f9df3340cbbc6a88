import type { UpdateRetentionBody } from '@platform/contracts';
import type { Db } from '@platform/db';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';

/** What a project last measured as holding. bigint columns arrive as text. */
export interface StorageUsageRow {
  project_id: string;
  deployments_bytes: string | number;
  build_cache_bytes: string | number;
  log_bytes: string | number;
  measured_at: Date;
}

const RETENTION_COLUMNS: Record<keyof UpdateRetentionBody, string> = {
  keepPerBranch: 'retain_per_branch',
  keepRollback: 'retain_rollback',
  failedAfterDays: 'retain_failed_days',
  buildCacheCapBytes: 'build_cache_cap_bytes',
};

/**
 * Every statement of the data lifecycle: deletion marks on deployments and projects (the
 * durable jobs the worker finishes), retention settings, measured storage usage.
 */
export class DataLifecycleRepo {
  constructor(private readonly db: Db) {}

  /**
   * Starts deleting a finished deployment: its row, now marked, is refused by a promote.
   * Null when it is not finished (or gone); a deployment already being deleted is returned
   * as it is, so a deletion can be retried.
   */
  async markDeploymentDeleting(id: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `UPDATE deployments SET deleting_at = COALESCE(deleting_at, now())
       WHERE id = $1 AND status IN ('READY', 'ERROR', 'CANCELED') RETURNING *`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Gives a deployment back (its deletion was refused after all: an alias serves it). */
  async unmarkDeploymentDeleting(id: string): Promise<void> {
    await this.db.query('UPDATE deployments SET deleting_at = NULL WHERE id = $1', [id]);
  }

  async deleteDeploymentRow(id: string): Promise<void> {
    await this.db.query('DELETE FROM deployments WHERE id = $1 AND deleting_at IS NOT NULL', [id]);
  }

  /** Deployment deletions a restart (or a failure) interrupted, oldest first. */
  async listDeletingDeployments(limit = 100): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>(
      `SELECT d.* FROM deployments d JOIN projects p ON p.id = d.project_id
       WHERE d.deleting_at IS NOT NULL AND p.deleting_at IS NULL
       ORDER BY d.deleting_at, d.id LIMIT $1`,
      [limit],
    );
  }

  /** A project even while it is being deleted (the projects repository hides those). */
  async getProjectAnyState(id: string): Promise<ProjectRow | null> {
    const rows = await this.db.query<ProjectRow>('SELECT * FROM projects WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  async listDeletingProjects(limit = 20): Promise<ProjectRow[]> {
    return this.db.query<ProjectRow>('SELECT * FROM projects WHERE deleting_at IS NOT NULL ORDER BY deleting_at, id LIMIT $1', [limit]);
  }

  /** Every deployment of a project, whatever its state: what a project deletion removes. */
  async listProjectDeployments(projectId: string): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>('SELECT * FROM deployments WHERE project_id = $1 ORDER BY created_at, id', [projectId]);
  }

  /** The last step of a project deletion; the foreign keys cascade to everything else it had. */
  async deleteProjectRow(id: string): Promise<void> {
    await this.db.query('DELETE FROM projects WHERE id = $1 AND deleting_at IS NOT NULL', [id]);
  }

  /** Projects retention and measuring go over (not those being deleted), by id after a cursor. */
  async listLiveProjects(afterId: string, limit = 100): Promise<ProjectRow[]> {
    return this.db.query<ProjectRow>('SELECT * FROM projects WHERE deleting_at IS NULL AND id > $1 ORDER BY id LIMIT $2', [afterId, limit]);
  }

  /** A project's finished deployments not being deleted, newest first: what retention chooses among. */
  async listFinished(projectId: string): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>(
      `SELECT * FROM deployments
       WHERE project_id = $1 AND deleting_at IS NULL AND status IN ('READY', 'ERROR', 'CANCELED')
       ORDER BY created_at DESC, id DESC`,
      [projectId],
    );
  }

  async updateRetention(projectId: string, patch: UpdateRetentionBody): Promise<ProjectRow | null> {
    const sets: string[] = [];
    const params: unknown[] = [projectId];
    for (const [field, column] of Object.entries(RETENTION_COLUMNS) as [keyof UpdateRetentionBody, string][]) {
      if (patch[field] === undefined) continue;
      params.push(patch[field]);
      sets.push(`${column} = $${params.length}`);
    }
    if (sets.length === 0) return this.getProjectAnyState(projectId);
    const rows = await this.db.query<ProjectRow>(`UPDATE projects SET ${sets.join(', ')} WHERE id = $1 AND deleting_at IS NULL RETURNING *`, params);
    return rows[0] ?? null;
  }

  async saveUsage(projectId: string, usage: { deploymentsBytes: number; buildCacheBytes: number; logBytes: number }): Promise<StorageUsageRow | null> {
    const rows = await this.db.query<StorageUsageRow>(
      `INSERT INTO project_storage_usage (project_id, deployments_bytes, build_cache_bytes, log_bytes, measured_at)
       SELECT id, $2, $3, $4, now() FROM projects WHERE id = $1
       ON CONFLICT (project_id) DO UPDATE SET
         deployments_bytes = EXCLUDED.deployments_bytes, build_cache_bytes = EXCLUDED.build_cache_bytes,
         log_bytes = EXCLUDED.log_bytes, measured_at = EXCLUDED.measured_at
       RETURNING *`,
      [projectId, usage.deploymentsBytes, usage.buildCacheBytes, usage.logBytes],
    );
    return rows[0] ?? null;
  }

  async getUsage(projectId: string): Promise<StorageUsageRow | null> {
    const rows = await this.db.query<StorageUsageRow>('SELECT * FROM project_storage_usage WHERE project_id = $1', [projectId]);
    return rows[0] ?? null;
  }

  /** Every live project's last measurement, with its slug (the `/metrics` label). */
  async listUsage(): Promise<(StorageUsageRow & { slug: string })[]> {
    return this.db.query<StorageUsageRow & { slug: string }>(
      `SELECT u.*, p.slug FROM project_storage_usage u JOIN projects p ON p.id = u.project_id
       WHERE p.deleting_at IS NULL ORDER BY p.slug`,
    );
  }
}
