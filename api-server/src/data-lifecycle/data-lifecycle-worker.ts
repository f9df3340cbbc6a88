import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import { PeriodicWorker } from '../workers/periodic-worker.ts';
import { evictBuildCaches } from './cache-eviction.ts';
import type { DataLifecycleRepo } from './data-lifecycle-repo.ts';
import type { DeploymentDeleter } from './deployment-deleter.ts';
import { DeploymentServed } from './errors.ts';
import type { ProjectDeleter } from './project-deleter.ts';
import { effectiveRetention, type DataLifecycleSettings } from './retention.ts';
import { chooseForDeletion } from './retention-policy.ts';
import type { StorageMeter } from './storage-usage.ts';

export interface DataLifecycleWorkerOptions extends DataLifecycleSettings {
  /** Time between two passes. Default 5 minutes. */
  intervalMs?: number;
  /** A build cache written less recently than this may be evicted. Default 10 minutes. */
  cacheFreshMs?: number;
}

/**
 * The background half of the data lifecycle, one pass at a time: finishes project
 * deletions (the API only marks them), finishes deployment deletions a restart cut short,
 * then, project by project, applies retention, evicts build caches over the cap and
 * measures storage. All of it is driven by rows in the metadata DB, so nothing is lost by
 * a restart and any replica may run it; every step is safe to run twice.
 */
export class DataLifecycleWorker {
  private readonly worker: PeriodicWorker;

  constructor(
    private readonly deps: {
      repo: DataLifecycleRepo;
      deployments: DeploymentDeleter;
      projects: ProjectDeleter;
      meter: StorageMeter;
      store: ObjectStore;
      logger: Logger;
    },
    private readonly options: DataLifecycleWorkerOptions,
  ) {
    this.worker = new PeriodicWorker({
      intervalMs: options.intervalMs ?? 5 * 60_000,
      pass: () => this.pass(),
      logger: deps.logger,
      failureMessage: 'data lifecycle pass failed',
    });
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  kick(): void {
    this.worker.kick();
  }

  runPass(): Promise<void> {
    return this.worker.runPass();
  }

  private async pass(): Promise<void> {
    await this.finishProjectDeletions();
    await this.finishDeploymentDeletions();
    let cursor = '';
    for (let page = await this.deps.repo.listLiveProjects(cursor); page.length > 0; page = await this.deps.repo.listLiveProjects(cursor)) {
      for (const project of page) {
        if (this.worker.stopped) return;
        await this.tidy(project);
      }
      cursor = page.at(-1)!.id;
    }
  }

  private async finishProjectDeletions(): Promise<void> {
    for (const project of await this.deps.repo.listDeletingProjects()) {
      if (this.worker.stopped) return;
      try {
        // False: a build stopped moments ago may still be uploading; its project goes on a later pass.
        if (!(await this.deps.projects.finish(project))) this.worker.kickIn(5_000);
      } catch (err) {
        // One project's failure (a store outage) holds up neither the others nor retention; the timer retries it.
        this.deps.logger.error({ err, projectId: project.id }, 'deleting a project failed; it will be retried');
      }
    }
  }

  private async finishDeploymentDeletions(): Promise<void> {
    for (const deployment of await this.deps.repo.listDeletingDeployments()) {
      const project = await this.deps.repo.getProjectAnyState(deployment.project_id);
      if (project) await this.deps.deployments.finish(deployment, project);
    }
  }

  /** Retention, cache eviction and a fresh measurement of one project; a failure stays with that project. */
  private async tidy(project: ProjectRow): Promise<void> {
    const log = this.deps.logger.child({ projectId: project.id });
    try {
      const settings = effectiveRetention(project, this.options.defaults);
      const deleted = await this.applyRetention(project, settings);
      const { evicted } = await evictBuildCaches(this.deps.store, project.id, settings.buildCacheCapBytes, Date.now(), this.options.cacheFreshMs);
      if (deleted > 0 || evicted.length > 0) log.info({ deployments: deleted, caches: evicted.length }, 'retention applied');
      await this.deps.meter.measure(project);
    } catch (err) {
      log.error({ err }, 'retention of a project failed');
    }
  }

  private async applyRetention(project: ProjectRow, settings: ReturnType<typeof effectiveRetention>): Promise<number> {
    const finished = await this.deps.repo.listFinished(project.id);
    const served = await this.servedAmong(project, finished);
    let deleted = 0;
    for (const id of chooseForDeletion(finished, settings, served, Date.now())) {
      const deployment = finished.find((d) => d.id === id)!;
      try {
        await this.deps.deployments.delete(deployment, project);
        deleted++;
      } catch (err) {
        // An alias moved to it since the listing (a promote): it stays.
        if (!(err instanceof DeploymentServed)) throw err;
      }
    }
    return deleted;
  }

  /** Which of these deployments an alias serves now. */
  private servedAmong(project: ProjectRow, deployments: readonly DeploymentRow[]): Promise<Set<string>> {
    return this.deps.deployments.servedDeploymentIds(project, new Set(deployments.map((d) => d.ref)));
  }
}
