import type { ListDeploymentsQuery } from '@platform/contracts';
import type { Db } from '@platform/db';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';

/** A project's deployments, newest first, filtered and paged by a `before` cursor (a deployment id). */
export async function listProjectDeployments(db: Db, projectId: string, q: ListDeploymentsQuery): Promise<DeploymentRow[]> {
  const params: unknown[] = [projectId];
  const where = ['project_id = $1'];
  if (q.status) {
    params.push(q.status);
    where.push(`status = ANY($${params.length}::text[])`);
  }
  if (q.branch) {
    params.push(q.branch);
    where.push(`ref = $${params.length}`);
  }
  if (q.target) {
    params.push(q.target);
    where.push(`target = $${params.length}`);
  }
  if (q.before) {
    params.push(q.before);
    where.push(`(created_at, id) < (SELECT created_at, id FROM deployments WHERE id = $${params.length} AND project_id = $1)`);
  }
  params.push(q.limit);
  return db.query<DeploymentRow>(
    `SELECT * FROM deployments WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
}

/** Deployment ids and branches of a project: the hostnames to unpublish when it is deleted. */
export async function projectDeploymentHosts(db: Db, projectId: string): Promise<Pick<DeploymentRow, 'id' | 'ref'>[]> {
  return db.query<Pick<DeploymentRow, 'id' | 'ref'>>('SELECT id, ref FROM deployments WHERE project_id = $1', [projectId]);
}
