import { BUILD_EVENTS_TOPIC, parseCommandLine, type BuildEvent, type BuildTask } from '@platform/contracts';
import type { EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { Runner } from '@platform/runner';
import type { ProjectRow, ProjectsRepo } from '../projects/projects-repo.ts';
import type { DeploymentRow, DeploymentsRepo } from './deployments-repo.ts';

export interface SchedulerOptions {
  maxConcurrentBuilds: number;
  /** Transport, storage and limits every build task carries. */
  taskSettings: Pick<BuildTask, 'storage' | 'transport' | 'allowLocalGit' | 'timeoutMs'>;
  pollIntervalMs?: number;
}

/**
 * Launches QUEUED deployments through the runner, oldest first, up to the concurrency limit.
 * The queue lives in the metadata DB, so a restart loses nothing: `recover` relaunches what
 * was queued and ends what was running when the process died.
 */
export class Scheduler {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      deployments: DeploymentsRepo;
      projects: ProjectsRepo;
      runner: Runner;
      bus: EventBus;
      logger: Logger;
      /** The project's build env vars for this deployment (decrypted); none by default. */
      resolveBuildEnv?: (project: ProjectRow, deployment: DeploymentRow) => Promise<Record<string, string>>;
    },
    private readonly options: SchedulerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.pollIntervalMs ?? 2_000);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Looks for work now; calls made while a pass runs trigger one more pass. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const next = await this.deps.deployments.claimNext(this.options.maxConcurrentBuilds);
            if (!next) break;
            await this.launch(next);
          }
        } while (this.again);
      } catch (err) {
        this.deps.logger.error({ err }, 'scheduler pass failed');
      } finally {
        this.running = false;
      }
    })();
  }

  /**
   * Cancels a deployment that has not ended: a queued one ends CANCELED at once; a running
   * one has its task stopped, and ends CANCELED when the runner reports the stop. Returns
   * false when the deployment had already ended.
   */
  async cancel(deploymentId: string, reason: string): Promise<boolean> {
    const row = await this.deps.deployments.markCancelRequested(deploymentId);
    if (!row) return false;
    if (!row.launched_at || !row.task_id) {
      const finished = await this.deps.deployments.finish(deploymentId, 'CANCELED', reason);
      if (finished) return true;
    }
    if (row.task_id) await this.deps.runner.stop(row.task_id, reason);
    return true;
  }

  /**
   * After a restart: a deployment launched by a runner task that no longer runs can never
   * report again, so it ends in ERROR; one that was claimed but never launched is requeued.
   */
  async recover(): Promise<void> {
    for (const d of await this.deps.deployments.listUnfinished()) {
      if (!d.launched_at) continue;
      if (!d.task_id) {
        await this.deps.deployments.requeue(d.id);
        continue;
      }
      const state = await this.deps.runner.describe(d.task_id);
      if (state.state === 'running') continue;
      const reason = 'the build was interrupted: its build process is gone (the platform restarted during the build)';
      const row = await this.deps.deployments.finish(d.id, 'ERROR', reason);
      if (row) this.deps.logger.warn({ deploymentId: d.id }, reason);
    }
  }

  private async launch(deployment: DeploymentRow): Promise<void> {
    const log = this.deps.logger.child({ deploymentId: deployment.id });
    const project = await this.deps.projects.get(deployment.project_id);
    try {
      if (!project) throw new Error('its project was deleted');
      const buildEnv = (await this.deps.resolveBuildEnv?.(project, deployment)) ?? {};
      const task = this.buildTask(project, deployment, buildEnv);
      const { taskId } = await this.deps.runner.start(task);
      await this.deps.deployments.setTaskId(deployment.id, taskId);
      log.info({ taskId, runner: this.deps.runner.name }, 'build launched');
    } catch (err) {
      const reason = `could not start the build: ${(err as Error).message}`;
      log.error({ err }, reason);
      // Through the event stream like any build result, so the log shows why.
      await this.publishFailure(deployment, reason);
    }
  }

  private buildTask(project: ProjectRow, deployment: DeploymentRow, buildEnv: Record<string, string>): BuildTask {
    return {
      deploymentId: deployment.id,
      projectId: project.id,
      gitUrl: project.git_url,
      ...(deployment.ref ? { gitRef: deployment.ref } : {}),
      ...(deployment.commit_sha ? { gitCommit: deployment.commit_sha } : {}),
      rootDirectory: project.root_directory ?? '.',
      ...(project.install_command ? { installCommand: parseCommandLine(project.install_command) } : {}),
      ...(project.build_command ? { buildCommand: parseCommandLine(project.build_command) } : {}),
      ...(project.output_directory ? { outputDirectory: project.output_directory } : {}),
      buildEnv,
      useBuildCache: deployment.use_build_cache,
      ...this.options.taskSettings,
    };
  }

  private async publishFailure(deployment: DeploymentRow, reason: string): Promise<void> {
    const base = { deploymentId: deployment.id, projectId: deployment.project_id, ts: Date.now() };
    const events: BuildEvent[] = [
      { ...base, type: 'log', seq: deployment.last_event_seq + 1, stream: 'system', message: reason },
      { ...base, type: 'status', seq: deployment.last_event_seq + 2, status: 'ERROR', detail: reason },
    ];
    await this.deps.bus.publish(BUILD_EVENTS_TOPIC, events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })));
  }
}
