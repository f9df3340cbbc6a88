import type { ProjectDataStore } from '@platform/clickhouse';
import { buildCachePrefix, contentPrefix } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import { removeDeploymentFiles, type ObjectStore } from '@platform/object-store';
import type { RoutePublisher } from '../deployments/route-publisher.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { ProjectDeployments } from '../projects/projects-service.ts';
import type { DataLifecycleRepo } from './data-lifecycle-repo.ts';

/**
 * Finishes the deletion of a project marked deleting: stops its builds, removes its route
 * records, its deployments' files, its build caches, its build and request logs, then the
 * row (which cascades to deployments, env vars, hooks, webhooks, usage). Each step is safe
 * to repeat, so a deletion cut short by a restart or a failing store simply runs again.
 */
export class ProjectDeleter {
  constructor(
    private readonly deps: {
      repo: DataLifecycleRepo;
      deployments: Pick<ProjectDeployments, 'stopAll'>;
      routes: RoutePublisher;
      store: ObjectStore;
      projectData: ProjectDataStore;
      logger: Logger;
      /**
       * How long after a build was stopped its files may still be arriving (a task's last
       * upload in flight when it was told to stop); the files are removed after that.
       */
      settleMs: number;
    },
  ) {}

  /** False when it must run again later (a build stopped too recently); true once the project is gone. */
  async finish(project: ProjectRow, now = Date.now()): Promise<boolean> {
    const { repo, store, projectData, routes, logger } = this.deps;
    const log = logger.child({ projectId: project.id });
    await this.deps.deployments.stopAll(project, 'the project was deleted');
    const deployments = await repo.listProjectDeployments(project.id);
    const settling = deployments.some((d) => d.launched_at && (!d.finished_at || now - d.finished_at.getTime() < this.deps.settleMs));
    if (settling) return false;
    const hosts = await routes.unpublishProject(project, deployments);
    let files = 0;
    for (const [i, d] of deployments.entries()) {
      files += await removeDeploymentFiles(store, d.id);
      if ((i + 1) % 50 === 0) log.info({ done: i + 1, of: deployments.length }, 'deleting the project’s deployments');
    }
    const caches = await store.list(buildCachePrefix(project.id));
    await store.delete(caches);
    // The project's content namespace (content-addressed files): no other project's manifest names it.
    const contents = await store.list(contentPrefix(project.id));
    await store.delete(contents);
    await projectData.deleteProject(project.id);
    await repo.deleteProjectRow(project.id);
    log.info({ deployments: deployments.length, files, contents: contents.length, caches: caches.length, hosts: hosts.length }, 'project deleted');
    return true;
  }
}
