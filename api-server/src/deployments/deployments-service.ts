import type { ListDeploymentsQuery } from '@platform/contracts';
import type { ProjectDeployments } from '../projects/projects-service.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import type { Deployer, DeployRequest } from './deployer.ts';
import type { DeploymentLifecycle } from './deployment-lifecycle.ts';
import type { DeploymentRow, DeploymentsRepo } from './deployments-repo.ts';
import { BeingDeleted, NotCancelable, NotReady } from './errors.ts';
import type { RoutePublisher } from './route-publisher.ts';

/** Told when a deployment was promoted (the notifications feature sends `deployment.promoted`). */
export type PromotedListener = (deployment: DeploymentRow, project: ProjectRow) => Promise<unknown>;

/** The deployment use-cases behind the REST API: list, deploy, cancel, redeploy, promote. */
export class DeploymentsService implements ProjectDeployments {
  constructor(
    private readonly deps: {
      deployments: DeploymentsRepo;
      deployer: Deployer;
      lifecycle: Pick<DeploymentLifecycle, 'cancel'>;
      routes: RoutePublisher;
      urls: Urls;
      onPromoted?: PromotedListener;
    },
  ) {}

  list(project: ProjectRow, query: ListDeploymentsQuery): Promise<DeploymentRow[]> {
    return this.deps.deployments.listForProject(project.id, query);
  }

  deploy(project: ProjectRow, request: DeployRequest): Promise<DeploymentRow> {
    return this.deps.deployer.deploy(project, request);
  }

  /** The deployment as it is after the cancel; NotCancelable when it had already ended. */
  async cancel(deployment: DeploymentRow, reason: string): Promise<DeploymentRow> {
    const canceled = await this.deps.lifecycle.cancel(deployment.id, reason);
    const now = (await this.deps.deployments.get(deployment.id)) ?? deployment;
    if (!canceled) throw new NotCancelable(now.status);
    return now;
  }

  /** The same commit again (the one the first build resolved), on the same target. */
  redeploy(source: DeploymentRow, project: ProjectRow, options: { useBuildCache?: boolean }): Promise<DeploymentRow> {
    return this.deps.deployer.deploy(project, {
      ref: source.ref,
      commit: source.commit_sha,
      target: source.target,
      useBuildCache: options.useBuildCache,
    });
  }

  /** Points production at a READY deployment (promote, or instant rollback); returns the production hostname. */
  async promote(deployment: DeploymentRow, project: ProjectRow): Promise<string> {
    if (deployment.status !== 'READY') throw new NotReady(deployment.status);
    if (deployment.deleting_at) throw new BeingDeleted();
    const { routes, urls } = this.deps;
    const previous = await routes.current(urls.productionHost(project.slug));
    const host = await routes.promote(deployment, project);
    // A deletion marks the row, then checks the aliases; a promote writes the alias, then
    // checks the mark: whichever comes second sees the other, so production never ends up
    // serving a deployment whose files are going.
    const now = await this.deps.deployments.get(deployment.id);
    if (!now || now.deleting_at) {
      await routes.restore(host, previous);
      throw new BeingDeleted();
    }
    await this.deps.onPromoted?.(deployment, project);
    return host;
  }

  async productionDeploymentId(project: ProjectRow): Promise<string | null> {
    const production = await this.deps.routes.current(this.deps.urls.productionHost(project.slug));
    return production?.projectId === project.id ? production.deploymentId : null;
  }

  async stopAll(project: ProjectRow, reason: string): Promise<{ unpublish(): Promise<void> }> {
    for (const d of await this.deps.deployments.listForProject(project.id, { status: ['QUEUED', 'BUILDING'], limit: 100 })) {
      await this.deps.lifecycle.cancel(d.id, reason);
    }
    const hosts = await this.deps.deployments.listHostParts(project.id);
    return {
      unpublish: async () => {
        await this.deps.routes.unpublishProject(project, hosts);
      },
    };
  }
}
