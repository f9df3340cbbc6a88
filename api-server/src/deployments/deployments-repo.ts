import { isTerminalStatus, randomId, type DeploymentStatus, type ListDeploymentsQuery, type StatusEvent } from '@platform/contracts';
import type { Db, DbExecutor } from '@platform/db';

export interface DeploymentRow {
  id: string;
  project_id: string;
  status: DeploymentStatus;
  target: 'production' | 'preview';
  ref: string | null;
  commit_sha: string | null;
  /** The Node.js version the build ran (reported on its terminal status). */
  node_version: string | null;
  error_message: string | null;
  use_build_cache: boolean;
  last_event_seq: number;
  task_id: string | null;
  launched_at: Date | null;
  launch_attempts: number;
  next_launch_at: Date | null;
  launch_error: string | null;
  pending_notice: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  /** Set while the deployment is being deleted (see data-lifecycle/). */
  deleting_at: Date | null;
}

/** A deployment to notify about, with its project's slug and the status last notified (null: never). */
export type UnnotifiedDeployment = DeploymentRow & { slug: string; previously_notified: string | null };

// Any constant works; it only has to be the same for every api-server replica.
const SCHEDULER_LOCK_ID = 74_210_052;

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

  /**
   * A deployment made from uploaded files (no build): BUILDING from the start and never
   * launched, so neither the scheduler nor the reconciler acts on it; its status events
   * (published by the uploads feature) end it like any build's.
   */
  async createDirect(input: { projectId: string; target: 'production' | 'preview' }): Promise<DeploymentRow> {
    const rows = await this.db.query<DeploymentRow>(
      `INSERT INTO deployments (id, project_id, status, target, ref, commit_sha, use_build_cache, started_at)
       VALUES ($1, $2, 'BUILDING', $3, NULL, NULL, false, now()) RETURNING *`,
      [randomId(20), input.projectId, input.target],
    );
    return rows[0]!;
  }

  /** The id of the project's newest READY deployment (its manifest names content already stored); null when none. */
  async newestReady(projectId: string): Promise<string | null> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM deployments WHERE project_id = $1 AND status = 'READY' ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT 1`,
      [projectId],
    );
    return rows[0]?.id ?? null;
  }

  async get(id: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>('SELECT * FROM deployments WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  /** A project's deployments, newest first, filtered and paged by a `before` cursor (a deployment id). */
  async listForProject(projectId: string, q: ListDeploymentsQuery): Promise<DeploymentRow[]> {
    const params: unknown[] = [projectId];
    // A deployment being deleted is already gone for its owner.
    const where = ['project_id = $1', 'deleting_at IS NULL'];
    const add = (clause: (at: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (q.status) add((at) => `status = ANY(${at}::text[])`, q.status);
    if (q.branch) add((at) => `ref = ${at}`, q.branch);
    if (q.target) add((at) => `target = ${at}`, q.target);
    if (q.before) add((at) => `(created_at, id) < (SELECT created_at, id FROM deployments WHERE id = ${at} AND project_id = $1)`, q.before);
    params.push(q.limit);
    return this.db.query<DeploymentRow>(
      `SELECT * FROM deployments WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /** Deployment ids and branches of a project: the hostnames to unpublish when it is deleted. */
  async listHostParts(projectId: string): Promise<Pick<DeploymentRow, 'id' | 'ref'>[]> {
    return this.db.query<Pick<DeploymentRow, 'id' | 'ref'>>('SELECT id, ref FROM deployments WHERE project_id = $1', [projectId]);
  }

  /**
   * Up to `limit` deployments that are new or newly ended since they were last notified, with
   * their project's slug, marked notified in the transaction that hands them to `record`: a
   * failure of `record` leaves them unmarked. Rows locked by another replica are skipped.
   * Returns how many there were.
   */
  async markNotified(limit: number, record: (rows: UnnotifiedDeployment[], tx: DbExecutor) => Promise<void>): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<UnnotifiedDeployment>(
        `WITH picked AS (
           SELECT id, notified_status FROM deployments
           WHERE notified_status IS NULL OR (status IN ('READY', 'ERROR', 'CANCELED') AND notified_status IS DISTINCT FROM status)
           ORDER BY created_at LIMIT $1
           FOR UPDATE SKIP LOCKED
         ), marked AS (
           UPDATE deployments d SET notified_status = d.status FROM picked WHERE d.id = picked.id
           RETURNING d.*, picked.notified_status AS previously_notified
         )
         SELECT marked.*, projects.slug FROM marked JOIN projects ON projects.id = marked.project_id ORDER BY marked.created_at`,
        [limit],
      );
      await record(rows, tx);
      return rows.length;
    });
  }

  /**
   * Claims the oldest QUEUED deployment that is due (not waiting out a launch backoff), if
   * fewer than `limits.global` builds run in all and fewer than `limits.perProject` in its
   * project. The advisory lock makes the count and the claim one step for every scheduler
   * sharing the database, so replicas never exceed the limits or launch a deployment twice.
   */
  async claimNext(limits: { global: number; perProject: number }): Promise<DeploymentRow | null> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEDULER_LOCK_ID]);
      const rows = await tx.query<DeploymentRow>(
        `WITH running AS (
           SELECT project_id FROM deployments WHERE status IN ('QUEUED', 'BUILDING') AND launched_at IS NOT NULL
         )
         UPDATE deployments SET launched_at = now(), launch_attempts = launch_attempts + 1, next_launch_at = NULL
         WHERE id = (
           SELECT d.id FROM deployments d
           WHERE d.status = 'QUEUED' AND d.launched_at IS NULL
             AND (d.next_launch_at IS NULL OR d.next_launch_at <= now())
             AND (SELECT count(*) FROM running) < $1
             AND (SELECT count(*) FROM running r WHERE r.project_id = d.project_id) < $2
           ORDER BY d.created_at, d.id
           LIMIT 1
         )
         RETURNING *`,
        [limits.global, limits.perProject],
      );
      return rows[0] ?? null;
    });
  }

  /**
   * Records the task that builds a claimed deployment. Returns the row: when it ended while
   * its task was starting (canceled), the caller stops the task it just started.
   */
  async setTaskId(id: string, taskId: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>('UPDATE deployments SET task_id = $2 WHERE id = $1 RETURNING *', [id, taskId]);
    return rows[0] ?? null;
  }

  /** A launch failed in a way worth retrying: back to the queue, due again after `delayMs`. */
  async retryLaunchLater(id: string, delayMs: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE deployments SET launched_at = NULL, task_id = NULL, launch_error = $3,
         next_launch_at = now() + ($2::double precision * interval '1 millisecond')
       WHERE id = $1 AND status = 'QUEUED'`,
      [id, delayMs, error],
    );
  }

  /** Those of `ids` that are deployments which have ended (READY, ERROR, CANCELED). */
  async finishedAmong(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM deployments WHERE id = ANY($1::text[]) AND status IN ('READY', 'ERROR', 'CANCELED')`, [
      ids,
    ]);
    return rows.map((r) => r.id);
  }

  /** Says on every deployment waiting in the queue why it waits (launches paused). */
  async markWaiting(reason: string): Promise<void> {
    await this.db.query(`UPDATE deployments SET launch_error = $1 WHERE status = 'QUEUED' AND launched_at IS NULL AND launch_error IS DISTINCT FROM $1`, [
      reason,
    ]);
  }

  /** Clears the waiting reasons that start with `prefix` (the pause is over). */
  async clearWaiting(prefix: string): Promise<void> {
    await this.db.query(`UPDATE deployments SET launch_error = NULL WHERE status = 'QUEUED' AND starts_with(launch_error, $1)`, [prefix]);
  }

  /**
   * QUEUED deployments not yet launched that a newer deployment of the same project and
   * branch makes pointless: building them would only be overwritten. Deployments pinned to
   * a commit without a branch are never superseded.
   */
  async listSuperseded(): Promise<(DeploymentRow & { superseded_by: string })[]> {
    return this.db.query(
      `SELECT o.*, n.id AS superseded_by FROM deployments o
       JOIN LATERAL (
         SELECT id FROM deployments n
         WHERE n.project_id = o.project_id AND n.ref = o.ref AND n.target = o.target
           AND n.status <> 'CANCELED' AND (n.created_at, n.id) > (o.created_at, o.id)
         ORDER BY n.created_at DESC, n.id DESC LIMIT 1
       ) n ON true
       WHERE o.status = 'QUEUED' AND o.launched_at IS NULL AND o.ref IS NOT NULL`,
    );
  }

  /** Deployments waiting for a build slot (the queue length). */
  async countQueued(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deployments WHERE status = 'QUEUED' AND launched_at IS NULL`);
    return rows[0]?.n ?? 0;
  }

  /** Deployments whose build has been launched and has not ended. */
  async countRunning(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deployments WHERE status IN ('QUEUED', 'BUILDING') AND launched_at IS NOT NULL`,
    );
    return rows[0]?.n ?? 0;
  }

  /** Deployments that ended after the cursor, oldest first (for the build-duration metric). */
  async listFinishedAfter(cursor: { at: Date; id: string }, limit = 1_000): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>(
      `SELECT * FROM deployments WHERE finished_at IS NOT NULL AND (finished_at, id) > ($1::timestamptz, $2)
       ORDER BY finished_at, id LIMIT $3`,
      [cursor.at, cursor.id, limit],
    );
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
         node_version = COALESCE($8, node_version),
         started_at = CASE WHEN $2 = 'BUILDING' THEN COALESCE(started_at, to_timestamp($5::double precision / 1000)) ELSE started_at END,
         finished_at = CASE WHEN $6 THEN to_timestamp($5::double precision / 1000) ELSE finished_at END,
         error_message = CASE WHEN $2 IN ('ERROR', 'CANCELED') THEN $7 ELSE error_message END
       WHERE id = $1 AND last_event_seq < $3 AND status NOT IN ('READY', 'ERROR', 'CANCELED')
       RETURNING *`,
      [event.deploymentId, event.status, event.seq, event.commit ?? null, event.ts, terminal, event.detail ?? null, event.nodeVersion ?? null],
    );
    return rows[0] ?? null;
  }

  /**
   * Ends a deployment from the platform's side (cancel, launch failure, timeout, a task that
   * died). `reason` is kept as the notice still to append to its event stream (see
   * `pending_notice`). Returns null when it had already ended.
   */
  async finish(id: string, status: 'ERROR' | 'CANCELED', reason: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `UPDATE deployments SET status = $2, error_message = $3, finished_at = now(), pending_notice = $3
       WHERE id = $1 AND status IN ('QUEUED', 'BUILDING') RETURNING *`,
      [id, status, reason],
    );
    return rows[0] ?? null;
  }

  /** The notice is on the event stream, up to `seq`. */
  async noticeAppended(id: string, seq: number): Promise<void> {
    await this.db.query('UPDATE deployments SET pending_notice = NULL, last_event_seq = GREATEST(last_event_seq, $2) WHERE id = $1', [id, seq]);
  }

  async listPendingNotices(): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>('SELECT * FROM deployments WHERE pending_notice IS NOT NULL ORDER BY finished_at, id');
  }

  async listUnfinished(): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>(`SELECT * FROM deployments WHERE status IN ('QUEUED', 'BUILDING') ORDER BY created_at, id`);
  }

  /** Resets a claimed deployment whose launch never completed, so the scheduler launches it again. */
  async requeue(id: string): Promise<void> {
    await this.db.query(`UPDATE deployments SET launched_at = NULL, task_id = NULL WHERE id = $1 AND status = 'QUEUED' AND task_id IS NULL`, [id]);
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
