import type { ProjectRow } from '../projects/projects-repo.ts';
import type { DeploymentRow, DeploymentsRepo } from './deployments-repo.ts';

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
 * a QUEUED row, then the workers that act on new deployments (the scheduler, and the
 * notifier, which sends `deployment.created` from the row) are woken up.
 */
export class Deployer {
  constructor(private readonly deps: { deployments: Pick<DeploymentsRepo, 'create'>; wake: readonly { kick(): void }[] }) {}

  async deploy(project: ProjectRow, request: DeployRequest = {}): Promise<DeploymentRow> {
    const ref = request.ref ?? project.production_branch;
    const deployment = await this.deps.deployments.create({
      projectId: project.id,
      target: request.target ?? (ref === project.production_branch ? 'production' : 'preview'),
      ref,
      commit: request.commit ?? null,
      useBuildCache: request.useBuildCache ?? true,
    });
    for (const worker of this.deps.wake) worker.kick();
    return deployment;
  }
}
