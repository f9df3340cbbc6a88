import type { ProjectDataStore } from '@platform/clickhouse';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import type { RoutePublisher } from '../deployments/route-publisher.ts';
import type { ProjectDeployments } from '../projects/projects-service.ts';
import type { Urls } from '../urls.ts';
import type { DataLifecycleRepo } from './data-lifecycle-repo.ts';
import { DataLifecycleService } from './data-lifecycle-service.ts';
import { DataLifecycleWorker, type DataLifecycleWorkerOptions } from './data-lifecycle-worker.ts';
import { DeploymentDeleter, type ExtraHostsSource } from './deployment-deleter.ts';
import { ProjectDeleter } from './project-deleter.ts';
import { StorageMeter } from './storage-usage.ts';

export interface DataLifecycle {
  service: DataLifecycleService;
  worker: DataLifecycleWorker;
}

/** The data lifecycle's parts, wired to each other (the composition calls this once). */
export function createDataLifecycle(deps: {
  repo: DataLifecycleRepo;
  projectData: ProjectDataStore;
  store: ObjectStore;
  routes: RoutePublisher;
  deployments: Pick<ProjectDeployments, 'stopAll'>;
  urls: Urls;
  logger: Logger;
  /** Custom-domain hostnames of a project (the domains feature), so retention and deletion leave what they serve. */
  extraHosts?: ExtraHostsSource;
  options: DataLifecycleWorkerOptions & { deletionSettleMs?: number };
}): DataLifecycle {
  const { repo, projectData, store, routes, urls, logger, options } = deps;
  const meter = new StorageMeter({ repo, store, projectData });
  const deleter = new DeploymentDeleter({ repo, routes, store, projectData, urls, logger, ...(deps.extraHosts ? { extraHosts: deps.extraHosts } : {}) });
  const projects = new ProjectDeleter({
    repo,
    deployments: deps.deployments,
    routes,
    store,
    projectData,
    logger,
    settleMs: options.deletionSettleMs ?? 30_000,
  });
  const worker = new DataLifecycleWorker({ repo, deployments: deleter, projects, meter, store, logger }, options);
  const service = new DataLifecycleService({ repo, deleter, meter, settings: options });
  return { service, worker };
}
