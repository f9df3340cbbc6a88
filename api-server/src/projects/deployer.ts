import type { Db } from '@platform/db';
import type { DeploymentRow, DeploymentsRepo } from '../deployments/deployments-repo.ts';
import type { Scheduler } from '../deployments/scheduler.ts';
import type { Notifier } from '../notifications/notifier.ts';
import type { ProjectRow } from './projects-repo.ts';

export interface DeployRequest {
  /** Branch or tag; the production branch when absent. */
  ref?: string | null;
  commit?: string | null;
  useBuildCache?: boolean;
  /** Default: production for the production branch, preview otherwise. */
  target?: 'production' | 'preview';
}

/**
 * The one way a deployment starts, whoever asks (REST, GitHub push, deploy hook, redeploy):
 * a QUEUED row and its `deployment.created` notification written in one transaction, then the
 * scheduler is woken up.
 */
export class Deployer {
  constructor(
    private readonly deps: { db: Db; deployments: DeploymentsRepo; scheduler: Scheduler; notifier: Notifier },
  ) {}

  async deploy(project: ProjectRow, request: DeployRequest = {}): Promise<DeploymentRow> {
    const ref = request.ref ?? project.production_branch;
    const deployment = await this.deps.deployments.create({
      projectId: project.id,
      target: request.target ?? (ref === project.production_branch ? 'production' : 'preview'),
      ref,
      commit: request.commit ?? null,
      useBuildCache: request.useBuildCache ?? true,
    });
    await this.deps.notifier.enqueue('deployment.created', deployment, project.slug);
    this.deps.scheduler.kick();
    return deployment;
  }
}
