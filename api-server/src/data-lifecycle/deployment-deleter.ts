import type { ProjectDataStore } from '@platform/clickhouse';
import { isTerminalStatus } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import { removeDeploymentFiles, type ObjectStore } from '@platform/object-store';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { RoutePublisher } from '../deployments/route-publisher.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import type { DataLifecycleRepo } from './data-lifecycle-repo.ts';
import { DeploymentNotFinished, DeploymentServed } from './errors.ts';

/**
 * Hostnames besides the production and branch aliases that may serve a project's
 * deployments (custom domains): a deployment one of them serves is not deleted. Wired in
 * the composition by the feature that owns them.
 */
export type ExtraHostsSource = (project: ProjectRow) => Promise<readonly string[]>;

/**
 * Deletes one finished deployment: marks it (a promote then refuses it), checks that no
 * alias serves it, then removes its own hostname's record, its files, its build logs and
 * its row. Every step after the mark is safe to repeat, so a deletion a restart cut short
 * is finished by `finish` from the data-lifecycle worker.
 */
export class DeploymentDeleter {
  constructor(
    private readonly deps: {
      repo: DataLifecycleRepo;
      routes: RoutePublisher;
      store: ObjectStore;
      projectData: ProjectDataStore;
      urls: Urls;
      logger: Logger;
      extraHosts?: ExtraHostsSource;
    },
  ) {}

  async delete(deployment: DeploymentRow, project: ProjectRow): Promise<void> {
    if (!isTerminalStatus(deployment.status)) throw new DeploymentNotFinished(deployment.status);
    const marked = await this.deps.repo.markDeploymentDeleting(deployment.id);
    if (!marked) throw new DeploymentNotFinished(deployment.status);
    const serving = await this.hostsServing(project, marked);
    if (serving.length > 0) {
      await this.deps.repo.unmarkDeploymentDeleting(marked.id);
      throw new DeploymentServed(serving.map((host) => this.deps.urls.url(host)));
    }
    await this.finish(marked, project);
  }

  /** The aliases (production, its branch's, any extra hostname) whose record points at the deployment now. */
  async hostsServing(project: ProjectRow, deployment: Pick<DeploymentRow, 'id' | 'ref'>): Promise<string[]> {
    const records = await this.aliasRecords(project, [deployment.ref]);
    return records.filter((r) => r.deploymentId === deployment.id).map((r) => r.host);
  }

  /** The deployments the production alias, the aliases of these branches and the extra hostnames serve now. */
  async servedDeploymentIds(project: ProjectRow, refs: Iterable<string | null>): Promise<Set<string>> {
    return new Set((await this.aliasRecords(project, refs)).map((r) => r.deploymentId));
  }

  private async aliasRecords(project: ProjectRow, refs: Iterable<string | null>): Promise<{ host: string; deploymentId: string }[]> {
    const { urls, routes } = this.deps;
    const hosts = new Set([urls.productionHost(project.slug)]);
    for (const ref of refs) if (ref) hosts.add(urls.branchHost(project.slug, ref));
    for (const host of (await this.deps.extraHosts?.(project)) ?? []) hosts.add(host);
    const records = await Promise.all([...hosts].map(async (host) => ({ host, record: await routes.current(host) })));
    return records.flatMap((r) => (r.record && r.record.projectId === project.id ? [{ host: r.host, deploymentId: r.record.deploymentId }] : []));
  }

  /** The steps after the mark, each safe to repeat. */
  async finish(deployment: DeploymentRow, project: ProjectRow): Promise<void> {
    const { routes, urls, store, projectData, repo } = this.deps;
    await routes.unpublishHost(urls.deploymentHost(project.slug, deployment.id), deployment.id);
    const files = await removeDeploymentFiles(store, deployment.id);
    await projectData.deleteDeploymentLogs([deployment.id]);
    await repo.deleteDeploymentRow(deployment.id);
    this.deps.logger.info({ deploymentId: deployment.id, projectId: project.id, files }, 'deployment deleted');
  }
}
