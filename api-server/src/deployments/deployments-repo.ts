import { isTerminalStatus, randomId, type DeploymentStatus, type StatusEvent } from '@platform/contracts';
import type { Db } from '@platform/db';

export interface DeploymentRow {
  id: string;
  project_id: string;
  status: DeploymentStatus;
  target: 'production' | 'preview';
  ref: string | null;
  commit_sha: string | null;
  error_message: string | null;
  use_build_cache: boolean;
  last_event_seq: number;
  task_id: string | null;
  launched_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export class DeploymentsRepo {
  constructor(private readonly db: Db) {}

  async create(input: {
    projectId: string;
    target: 'production' | 'preview';
    ref: string | null;
    commit: string | null;
    useBuildCache?: boolean;
  }): Promise<DeploymentRow> {
    const rows = await this.db.query<DeploymentRow>(
      `INSERT INTO deployments (id, project_id, status, target, ref, commit_sha, use_build_cache)
       VALUES ($1, $2, 'QUEUED', $3, $4, $5, $6) RETURNING *`,
      [randomId(20), input.projectId, input.target, input.ref, input.commit, input.useBuildCache ?? true],
    );
    return rows[0]!;
  }

  async get(id: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>('SELECT * FROM deployments WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  /**
   * Claims the oldest QUEUED deployment not yet launched, if fewer than `limit` are running.
   * One statement, so two schedulers never launch the same deployment twice.
   */
  async claimNext(limit: number): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `UPDATE deployments SET launched_at = now()
       WHERE id = (
         SELECT id FROM deployments
         WHERE status = 'QUEUED' AND launched_at IS NULL
           AND (SELECT count(*) FROM deployments WHERE status IN ('QUEUED', 'BUILDING') AND launched_at IS NOT NULL) < $1
         ORDER BY created_at, id
         LIMIT 1
         FOR UPDATE SKIP LOCKED
       )
       RETURNING *`,
      [limit],
    );
    return rows[0] ?? null;
  }

  async setTaskId(id: string, taskId: string): Promise<void> {
    await this.db.query('UPDATE deployments SET task_id = $2 WHERE id = $1', [id, taskId]);
  }

  /**
   * Applies a status event from the build. Events are applied once and in order: an event
   * whose seq is not above the last one applied is a redelivery, and a terminal state never
   * changes again. Returns the updated row, or null when nothing changed.
   */
  async applyStatusEvent(event: StatusEvent): Promise<DeploymentRow | null> {
    const terminal = isTerminalStatus(event.status);
    const rows = await this.db.query<DeploymentRow>(
      `UPDATE deployments SET
         status = $2,
         last_event_seq = $3,
         commit_sha = COALESCE($4, commit_sha),
         started_at = CASE WHEN $2 = 'BUILDING' THEN COALESCE(started_at, to_timestamp($5::double precision / 1000)) ELSE started_at END,
         finished_at = CASE WHEN $6 THEN to_timestamp($5::double precision / 1000) ELSE finished_at END,
         error_message = CASE WHEN $2 IN ('ERROR', 'CANCELED') THEN $7 ELSE error_message END
       WHERE id = $1 AND last_event_seq < $3 AND status NOT IN ('READY', 'ERROR', 'CANCELED')
       RETURNING *`,
      [event.deploymentId, event.status, event.seq, event.commit ?? null, event.ts, terminal, event.detail ?? null],
    );
    return rows[0] ?? null;
  }

  /** Marks a deployment ERROR or CANCELED from the platform's side (launch failure, restart). */
  async finish(id: string, status: 'ERROR' | 'CANCELED', reason: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `UPDATE deployments SET status = $2, error_message = $3, finished_at = now()
       WHERE id = $1 AND status IN ('QUEUED', 'BUILDING') RETURNING *`,
      [id, status, reason],
    );
    return rows[0] ?? null;
  }

  async listUnfinished(): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>(`SELECT * FROM deployments WHERE status IN ('QUEUED', 'BUILDING') ORDER BY created_at`);
  }

  /** Marks the deployment as being canceled unless it already ended; returns the row as it was. */
  async markCancelRequested(id: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(`SELECT * FROM deployments WHERE id = $1 AND status IN ('QUEUED', 'BUILDING')`, [id]);
    return rows[0] ?? null;
  }

  /** Resets a launched-but-never-started deployment so the scheduler launches it again. */
  async requeue(id: string): Promise<void> {
    await this.db.query(`UPDATE deployments SET launched_at = NULL, task_id = NULL WHERE id = $1 AND status = 'QUEUED'`, [id]);
  }

  /**
   * Whether a READY deployment of the same project (and target or branch) was created after
   * this one: then an alias must stay where it is.
   */
  async hasNewerReady(deployment: DeploymentRow, filter: { target?: 'production'; ref?: string }): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM deployments
       WHERE project_id = $1 AND status = 'READY' AND id <> $2
         AND (created_at, id) > ($3::timestamptz, $2)
         AND ($4::text IS NULL OR target = $4) AND ($5::text IS NULL OR ref = $5)
       LIMIT 1`,
      [deployment.project_id, deployment.id, deployment.created_at, filter.target ?? null, filter.ref ?? null],
    );
    return rows.length > 0;
  }
}
