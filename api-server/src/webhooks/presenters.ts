import type { DeployHook, GithubDelivery } from '@platform/contracts';
import { iso } from '../http/iso.ts';
import type { DeployHookRow, GithubDeliveryRow } from './webhooks-repo.ts';

export const presentDeployHook = (row: DeployHookRow): DeployHook => ({ id: row.id, name: row.name, branch: row.branch, createdAt: iso(row.created_at)! });

export const presentGithubDelivery = (row: GithubDeliveryRow): GithubDelivery => ({
  deliveryId: row.delivery_id,
  event: row.event,
  outcome: row.outcome,
  detail: row.detail,
  deploymentId: row.deployment_id,
  receivedAt: iso(row.received_at)!,
});
