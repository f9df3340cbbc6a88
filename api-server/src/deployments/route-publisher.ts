import { routeKey, type RouteRecord } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import type { Logger } from '@platform/logger';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import type { DeploymentRow, DeploymentsRepo } from './deployments-repo.ts';

/**
 * Writes `routes/<hostname>.json` records, the only thing the proxy reads to know what a
 * hostname serves. A deployment always gets its own immutable hostname; the production and
 * branch aliases move only to the newest READY deployment, so a slow old build that finishes
 * late never takes an alias back.
 */
export class RoutePublisher {
  constructor(
    private readonly deps: { store: ObjectStore; deployments: DeploymentsRepo; urls: Urls; logger: Logger },
  ) {}

  async publishReady(deployment: DeploymentRow, project: ProjectRow): Promise<void> {
    const { urls, deployments } = this.deps;
    const hosts = [urls.deploymentHost(project.slug, deployment.id)];
    if (deployment.target === 'production' && !(await deployments.hasNewerReady(deployment, { target: 'production' }))) {
      hosts.push(urls.productionHost(project.slug));
    }
    if (deployment.ref && !(await deployments.hasNewerReady(deployment, { ref: deployment.ref }))) {
      hosts.push(urls.branchHost(project.slug, deployment.ref));
    }
    await Promise.all(hosts.map((host) => this.write(host, deployment, project)));
    this.deps.logger.info({ deploymentId: deployment.id, hosts }, 'routes published');
  }

  private async write(host: string, deployment: DeploymentRow, project: ProjectRow): Promise<void> {
    const record: RouteRecord = {
      deploymentId: deployment.id,
      projectId: project.id,
      spa: project.spa,
      updatedAt: new Date().toISOString(),
    };
    await this.deps.store.put(routeKey(host), JSON.stringify(record), { contentType: 'application/json', cacheControl: 'no-store' });
  }
}
