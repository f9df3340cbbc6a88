import { routeKey, routeRecordSchema, type RouteRecord } from '@platform/contracts';
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
    private readonly deps: {
      store: ObjectStore;
      deployments: DeploymentsRepo;
      urls: Urls;
      logger: Logger;
      /** More hostnames that follow a branch's newest READY deployment (a pull request's `-pr-<n>` alias). */
      branchAliases?: (deployment: DeploymentRow, project: ProjectRow) => Promise<string[]>;
    },
  ) {}

  async publishReady(deployment: DeploymentRow, project: ProjectRow): Promise<void> {
    const { urls, deployments } = this.deps;
    const hosts = [urls.deploymentHost(project.slug, deployment.id)];
    if (deployment.target === 'production' && !(await deployments.hasNewerReady(deployment, { target: 'production' }))) {
      hosts.push(urls.productionHost(project.slug));
    }
    if (deployment.ref && !(await deployments.hasNewerReady(deployment, { ref: deployment.ref }))) {
      hosts.push(urls.branchHost(project.slug, deployment.ref));
      hosts.push(...((await this.deps.branchAliases?.(deployment, project)) ?? []));
    }
    await Promise.all(hosts.map((host) => this.write(host, deployment, project)));
    this.deps.logger.info({ deploymentId: deployment.id, hosts }, 'routes published');
  }

  /**
   * Points the production hostname at a READY deployment, whatever its age or target: the
   * instant rollback (and promote). Nothing is rebuilt; the proxy serves it within its TTL.
   */
  async promote(deployment: DeploymentRow, project: ProjectRow): Promise<string> {
    const host = this.deps.urls.productionHost(project.slug);
    await this.write(host, deployment, project);
    this.deps.logger.info({ deploymentId: deployment.id, host }, 'deployment promoted to production');
    return host;
  }

  /** Which deployment a hostname serves now, per its route record; null when none. */
  async current(host: string): Promise<RouteRecord | null> {
    const raw = await this.deps.store.getBuffer(routeKey(host));
    if (!raw) return null;
    try {
      return routeRecordSchema.parse(JSON.parse(raw.toString('utf8')));
    } catch {
      return null;
    }
  }

  /**
   * Removes every route record of a deleted project (production, each deployment's own
   * hostname, each branch alias), so none of its hostnames serves any longer. A record that
   * another project took over in the meantime is left alone.
   */
  async unpublishProject(project: ProjectRow, deployments: readonly Pick<DeploymentRow, 'id' | 'ref'>[]): Promise<string[]> {
    const { urls } = this.deps;
    const hosts = new Set([urls.productionHost(project.slug)]);
    for (const d of deployments) {
      hosts.add(urls.deploymentHost(project.slug, d.id));
      if (d.ref) hosts.add(urls.branchHost(project.slug, d.ref));
    }
    const records = await Promise.all([...hosts].map(async (host) => ({ host, record: await this.current(host) })));
    const owned = records.filter((r) => r.record?.projectId === project.id).map((r) => r.host);
    if (owned.length > 0) await this.deps.store.delete(owned.map(routeKey));
    this.deps.logger.info({ projectId: project.id, hosts: owned }, 'routes removed');
    return owned;
  }

  /**
   * Puts a hostname's record back as it was (`record` null: removes it): a promote that lost
   * the race against the deletion of its deployment undoes its write.
   */
  async restore(host: string, record: RouteRecord | null): Promise<void> {
    if (record) await this.deps.store.put(routeKey(host), JSON.stringify(record), { contentType: 'application/json', cacheControl: 'no-store' });
    else await this.deps.store.delete([routeKey(host)]);
  }

  /** Removes a hostname's record if it still points at `deploymentId` (a deleted deployment's own hostname). */
  async unpublishHost(host: string, deploymentId: string): Promise<void> {
    if ((await this.current(host))?.deploymentId === deploymentId) await this.deps.store.delete([routeKey(host)]);
  }

  /** Removes the route records of these hostnames that serve this project; returns those removed. */
  async unpublishHosts(project: ProjectRow, hosts: readonly string[]): Promise<string[]> {
    const records = await Promise.all(hosts.map(async (host) => ({ host, record: await this.current(host) })));
    const owned = records.filter((r) => r.record?.projectId === project.id).map((r) => r.host);
    if (owned.length > 0) await this.deps.store.delete(owned.map(routeKey));
    this.deps.logger.info({ projectId: project.id, hosts: owned }, 'aliases removed');
    return owned;
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
