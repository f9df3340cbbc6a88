import { randomId, type GithubDelivery } from '@platform/contracts';
import type { Db } from '@platform/db';
import type { ProjectRow } from '../projects/projects-repo.ts';

export interface DeployHookRow {
  id: string;
  project_id: string;
  name: string;
  branch: string;
  token_hash: string;
  created_at: Date;
}

export interface GithubDeliveryRow {
  project_id: string;
  delivery_id: string;
  event: string;
  payload: string;
  outcome: GithubDelivery['outcome'];
  detail: string | null;
  deployment_id: string | null;
  received_at: Date;
}

/** Every statement on `deploy_hooks` and `github_deliveries`. */
export class WebhooksRepo {
  constructor(private readonly db: Db) {}

  /** The hook whose secret hashes to `tokenHash`, with its project. */
  async findHook(tokenHash: string): Promise<(DeployHookRow & { project: ProjectRow }) | null> {
    const rows = await this.db.query<DeployHookRow & { project: ProjectRow }>(
      `SELECT h.*, to_jsonb(p.*) AS project FROM deploy_hooks h JOIN projects p ON p.id = h.project_id WHERE h.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  async createHook(projectId: string, hook: { name: string; branch: string; tokenHash: string }): Promise<DeployHookRow> {
    const rows = await this.db.query<DeployHookRow>(
      `INSERT INTO deploy_hooks (id, project_id, name, branch, token_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [`hook_${randomId(16)}`, projectId, hook.name, hook.branch, hook.tokenHash],
    );
    return rows[0]!;
  }

  async listHooks(projectId: string): Promise<DeployHookRow[]> {
    return this.db.query<DeployHookRow>('SELECT * FROM deploy_hooks WHERE project_id = $1 ORDER BY created_at, id', [projectId]);
  }

  async deleteHook(projectId: string, hookId: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM deploy_hooks WHERE project_id = $1 AND id = $2 RETURNING id', [projectId, hookId])).length > 0;
  }

  /** Records a delivery once per project; null when it was recorded already (a GitHub retry, a duplicate send). */
  async claimDelivery(
    d: Pick<GithubDeliveryRow, 'project_id' | 'delivery_id' | 'event' | 'payload' | 'outcome' | 'detail'>,
  ): Promise<GithubDeliveryRow | null> {
    const rows = await this.db.query<GithubDeliveryRow>(
      `INSERT INTO github_deliveries (project_id, delivery_id, event, payload, outcome, detail)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, delivery_id) DO NOTHING RETURNING *`,
      [d.project_id, d.delivery_id, d.event, d.payload, d.outcome, d.detail],
    );
    return rows[0] ?? null;
  }

  async getDelivery(projectId: string, deliveryId: string): Promise<GithubDeliveryRow | null> {
    const rows = await this.db.query<GithubDeliveryRow>('SELECT * FROM github_deliveries WHERE project_id = $1 AND delivery_id = $2', [projectId, deliveryId]);
    return rows[0] ?? null;
  }

  async setDeliveryDeployment(projectId: string, deliveryId: string, deploymentId: string): Promise<GithubDeliveryRow | null> {
    const rows = await this.db.query<GithubDeliveryRow>(
      'UPDATE github_deliveries SET deployment_id = $3 WHERE project_id = $1 AND delivery_id = $2 RETURNING *',
      [projectId, deliveryId, deploymentId],
    );
    return rows[0] ?? null;
  }

  /** The newest 100 deliveries of a project. */
  async listDeliveries(projectId: string): Promise<GithubDeliveryRow[]> {
    return this.db.query<GithubDeliveryRow>('SELECT * FROM github_deliveries WHERE project_id = $1 ORDER BY received_at DESC LIMIT 100', [projectId]);
  }
}
