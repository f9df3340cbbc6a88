import { parseCommandLine, type BuildTask, type BuildTaskRequest } from '@platform/contracts';
import { deploymentEventKey } from '@platform/event-bus';
import type { UploadCredentialMinter } from '@platform/object-store';
import type { Logger } from '@platform/logger';
import { RunnerStartError, type Runner } from '@platform/runner';
import type { ProjectRow, ProjectsRepo } from '../projects/projects-repo.ts';
import { PeriodicWorker } from '../workers/periodic-worker.ts';
import type { DeploymentLifecycle } from './deployment-lifecycle.ts';
import type { DeploymentRow, DeploymentsRepo } from './deployments-repo.ts';

export interface SchedulerOptions {
  /** Builds running at once across the platform. */
  maxConcurrentBuilds: number;
  /** Builds running at once in one project. Default: the global limit. */
  maxConcurrentBuildsPerProject?: number;
  /** Transport, storage and limits every build task carries. */
  taskSettings: Pick<BuildTask, 'storage' | 'transport' | 'localGitRoots' | 'timeoutMs'>;
  pollIntervalMs?: number;
  /** Launch attempts before a deployment whose task cannot start ends in ERROR. Default 5. */
  maxLaunchAttempts?: number;
  /** First retry delay after a failed launch; doubles each attempt, up to `maxRetryDelayMs`. Default 2 s. */
  retryBaseDelayMs?: number;
  /** Default 60 s. */
  maxRetryDelayMs?: number;
  /** BUILD_EVENTS_SIGNING_SECRET: each task then carries its deployment's event-signing key (and nothing that signs for another). */
  eventSigningSecret?: string;
  /**
   * Launches pause while the builds' scratch disk has less than `minFreeBytes` free (the
   * waiting deployments say why), and resume once it has more. Unset or 0: never paused.
   */
  lowDisk?: { minFreeBytes: number; freeBytes: () => Promise<number> };
}

/** How the waiting reason of a low-disk pause starts (so any replica can clear it). */
export const LOW_DISK_REASON = 'waiting for disk space:';

export interface SchedulerEvents {
  launched?: (row: DeploymentRow) => void;
  launchFailed?: (row: DeploymentRow, retryable: boolean) => void;
}

/**
 * Launches QUEUED deployments through the runner, oldest first, up to a global and a
 * per-project limit. The queue lives in the metadata DB, so a restart loses nothing, and
 * several api-server replicas can share it. A newer deployment of a branch supersedes the
 * queued older ones; a launch that fails for lack of capacity or throttling is retried with
 * exponential backoff, then ends in ERROR with the reason.
 */
export class Scheduler {
  private readonly worker: PeriodicWorker;
  /** The reason launches are paused for lack of disk space, while they are; false once known not to be. */
  private pausedFor: string | false | undefined;

  constructor(
    private readonly deps: {
      deployments: DeploymentsRepo;
      projects: Pick<ProjectsRepo, 'get'>;
      runner: Runner;
      lifecycle: Pick<DeploymentLifecycle, 'finish'>;
      /** Each S3 build's own upload credentials (S3_UPLOAD_ROLE_ARN), minted at launch for its timeout. */
      uploadCredentials?: UploadCredentialMinter;
      logger: Logger;
      /** The project's build env vars for this deployment (decrypted); none by default. */
      resolveBuildEnv?: (project: ProjectRow, deployment: DeploymentRow) => Promise<Record<string, string>>;
      /** Why this project's builds may not run now (its storage quota is used up), or null. */
      refusal?: (project: ProjectRow) => Promise<string | null>;
      /** The clone credential (for the supervisor only) and the system variables of this build (the git integration). */
      resolveGitAccess?: (project: ProjectRow, deployment: DeploymentRow) => Promise<Pick<BuildTaskRequest, 'gitToken' | 'gitSshKey' | 'systemEnv'>>;
      events?: SchedulerEvents;
    },
    private readonly options: SchedulerOptions,
  ) {
    this.worker = new PeriodicWorker({
      intervalMs: options.pollIntervalMs ?? 2_000,
      pass: () => this.schedule(),
      logger: deps.logger,
      failureMessage: 'scheduler pass failed',
    });
  }

  start(): void {
    this.worker.start();
  }

  /** Stops looking for work and waits for a launch in progress. */
  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Looks for work now; calls made while a pass runs trigger one more pass. */
  kick(): void {
    this.worker.kick();
  }

  /** One scheduling pass (or the one running, then one more); resolves when done. */
  runPass(): Promise<void> {
    return this.worker.runPass();
  }

  /** Supersede, then launch while slots are free. */
  private async schedule(): Promise<void> {
    await this.supersede();
    if (await this.lowOnDisk()) return;
    const limits = {
      global: this.options.maxConcurrentBuilds,
      perProject: this.options.maxConcurrentBuildsPerProject ?? this.options.maxConcurrentBuilds,
    };
    for (let next = await this.deps.deployments.claimNext(limits); next; next = await this.deps.deployments.claimNext(limits)) {
      await this.launch(next);
    }
  }

  /** True while free space is under the floor: the waiting deployments then carry the reason, cleared once it is back. */
  private async lowOnDisk(): Promise<boolean> {
    const { lowDisk } = this.options;
    if (!lowDisk || lowDisk.minFreeBytes <= 0) return false;
    let free: number;
    try {
      free = await lowDisk.freeBytes();
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not measure the free space of the build disk; launching anyway');
      return false;
    }
    if (free < lowDisk.minFreeBytes) {
      const reason = `${LOW_DISK_REASON} builds are paused while the build disk has ${formatBytes(free)} free, less than the ${formatBytes(lowDisk.minFreeBytes)} the platform keeps free (BUILD_MIN_FREE_DISK)`;
      if (!this.pausedFor) this.deps.logger.warn({ freeBytes: free, minFreeBytes: lowDisk.minFreeBytes }, 'build launches paused: low disk space');
      this.pausedFor = reason;
      await this.deps.deployments.markWaiting(reason);
      return true;
    }
    if (this.pausedFor !== false) {
      // Once after a pause (or at start: a pause from before a restart), the reasons go.
      if (this.pausedFor) this.deps.logger.info({ freeBytes: free }, 'build launches resumed: disk space is back');
      await this.deps.deployments.clearWaiting(LOW_DISK_REASON);
      this.pausedFor = false;
    }
    return false;
  }

  private async supersede(): Promise<void> {
    for (const old of await this.deps.deployments.listSuperseded()) {
      await this.deps.lifecycle.finish(old, 'CANCELED', `superseded by a newer deployment of ${old.ref} (${old.superseded_by}) before it started`);
    }
  }

  private async launch(deployment: DeploymentRow): Promise<void> {
    const log = this.deps.logger.child({ deploymentId: deployment.id });
    const project = await this.deps.projects.get(deployment.project_id);
    let taskId: string;
    try {
      if (!project) throw new RunnerStartError('its project was deleted', false);
      const refused = await this.deps.refusal?.(project);
      if (refused) throw new RunnerStartError(refused, false);
      const buildEnv = (await this.deps.resolveBuildEnv?.(project, deployment)) ?? {};
      const previous = await this.deps.deployments.newestReady(project.id);
      const access = await this.gitAccess(project, deployment);
      const task = await this.withUploadCredentials({
        ...this.buildTask(project, deployment, buildEnv),
        ...(previous ? { reuseContentOf: previous } : {}),
        ...access,
      });
      ({ taskId } = await this.deps.runner.start(task));
    } catch (err) {
      await this.launchFailed(deployment, err);
      return;
    }
    const row = await this.deps.deployments.setTaskId(deployment.id, taskId);
    if (!row || row.status === 'CANCELED' || row.status === 'ERROR') {
      // Canceled while its task was starting.
      await this.deps.runner.stop(taskId, row?.error_message ?? 'deployment ended before its build started');
      return;
    }
    log.info({ taskId, runner: this.deps.runner.name, attempt: deployment.launch_attempts }, 'build launched');
    this.deps.events?.launched?.(row);
  }

  /** A credential that cannot be had now (GitHub unreachable) is retried like a launch without capacity. */
  private async gitAccess(project: ProjectRow, deployment: DeploymentRow): Promise<Pick<BuildTaskRequest, 'gitToken' | 'gitSshKey' | 'systemEnv'>> {
    if (!this.deps.resolveGitAccess) return {};
    try {
      return await this.deps.resolveGitAccess(project, deployment);
    } catch (err) {
      throw new RunnerStartError(`could not get the repository's clone credential: ${(err as Error).message}`, true);
    }
  }

  private async launchFailed(deployment: DeploymentRow, err: unknown): Promise<void> {
    const log = this.deps.logger.child({ deploymentId: deployment.id });
    const message = (err as Error)?.message ?? String(err);
    const retryable = err instanceof RunnerStartError && err.retryable;
    const maxAttempts = this.options.maxLaunchAttempts ?? 5;
    this.deps.events?.launchFailed?.(deployment, retryable);
    if (retryable && deployment.launch_attempts < maxAttempts) {
      const base = this.options.retryBaseDelayMs ?? 2_000;
      const delay = Math.min(this.options.maxRetryDelayMs ?? 60_000, base * 2 ** (deployment.launch_attempts - 1));
      // Jitter, so replicas and deployments retrying together spread out.
      const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
      log.warn({ attempt: deployment.launch_attempts, retryInMs: jittered, reason: message }, 'build launch failed; will retry');
      await this.deps.deployments.retryLaunchLater(deployment.id, jittered, message);
      return;
    }
    const reason = retryable ? `could not start the build after ${deployment.launch_attempts} attempts: ${message}` : `could not start the build: ${message}`;
    log.error({ err }, reason);
    await this.deps.lifecycle.finish(deployment, 'ERROR', reason, { noTask: true });
  }

  /** The task with credentials of its own for its storage: the upload role's session for this deployment. */
  private async withUploadCredentials(task: BuildTaskRequest): Promise<BuildTaskRequest> {
    const minter = this.deps.uploadCredentials;
    if (!minter || task.storage.driver !== 's3') return task;
    let credentials: Awaited<ReturnType<UploadCredentialMinter['mint']>>;
    try {
      credentials = await minter.mint({ deploymentId: task.deploymentId, projectId: task.projectId, validForMs: task.timeoutMs ?? 15 * 60_000 });
    } catch (err) {
      // STS throttling or an outage passes; a refusal (the role's trust, a bad ARN) does not.
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      const retryable = status === undefined || status >= 500 || status === 429 || /throttl/i.test(e.name ?? '');
      throw new RunnerStartError(`could not mint the build's upload credentials: ${e.name ?? 'Error'}: ${(err as Error).message}`, retryable);
    }
    const { expiresAt: _expiresAt, ...keys } = credentials;
    return { ...task, storage: { ...task.storage, credentials: keys } };
  }

  private buildTask(project: ProjectRow, deployment: DeploymentRow, buildEnv: Record<string, string>): BuildTaskRequest {
    return {
      deploymentId: deployment.id,
      projectId: project.id,
      gitUrl: project.git_url,
      ...(deployment.ref ? { gitRef: deployment.ref } : {}),
      ...(deployment.commit_sha ? { gitCommit: deployment.commit_sha } : {}),
      rootDirectory: project.root_directory ?? '.',
      ...(project.install_command ? { installCommand: parseCommandLine(project.install_command) } : {}),
      ...(project.node_version ? { nodeVersion: project.node_version } : {}),
      ...(project.ignore_command ? { ignoreCommand: parseCommandLine(project.ignore_command) } : {}),
      ...(project.build_command ? { buildCommand: parseCommandLine(project.build_command) } : {}),
      ...(project.output_directory ? { outputDirectory: project.output_directory } : {}),
      buildEnv,
      useBuildCache: deployment.use_build_cache,
      ...this.options.taskSettings,
      ...(this.options.eventSigningSecret
        ? { eventSigningKey: deploymentEventKey(this.options.eventSigningSecret, { deploymentId: deployment.id, projectId: project.id }) }
        : {}),
    };
  }
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}
