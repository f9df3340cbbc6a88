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
 * a QUEUED row, then the scheduler and the notifier (which sends `deployment.created` from
 * the row) are woken up.
 */
export class Deployer {
  constructor(
    private readonly deps: { deployments: DeploymentsRepo; scheduler: Scheduler; notifier: Pick<Notifier, 'kick'> },
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
    this.deps.scheduler.kick();
    this.deps.notifier.kick();
    return deployment;
  }
}
