import type { BuildTaskRequest } from '@platform/contracts';

export interface StartedTask {
  /** The runner's own id for the task: a pid, a container name, an ECS task ARN. */
  taskId: string;
}

/** What a runner knows about one of its tasks; the reconciler decides the deployment's fate from it. */
export interface RunnerTaskState {
  /**
   * `running`: the task is alive (ECS: PROVISIONING/PENDING/RUNNING/DEPROVISIONING is still "not
   * stopped"). `stopped`: it ended. `unknown`: the runner has no record of it (a process from
   * before a restart, an ECS task long gone).
   */
  state: 'running' | 'stopped' | 'unknown';
  /** The build-server's exit code (ECS: the build container's exit code). */
  exitCode?: number;
  /** Why it stopped, in words: ECS `stoppedReason`, a signal, an OOM kill. */
  reason?: string;
  /** When it stopped (ms since the epoch), when the runner knows. */
  stoppedAt?: number;
  /**
   * The task runs, but its events can no longer reach the platform (the process that relayed
   * its output is gone). The reconciler stops it: it can never report a result.
   */
  orphaned?: boolean;
}

/**
 * Thrown by `start` when no task was started. `retryable`: a capacity shortage or throttling
 * that a later attempt may get past; otherwise the launch itself is wrong (bad task
 * definition, no permission, a task too large) and retrying cannot help.
 */
export class RunnerStartError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'RunnerStartError';
  }
}

/** How a runner's builds are isolated from the platform and from each other. */
export interface RunnerIsolation {
  /**
   * No sandbox can run here: builds run with the platform's own user, so the platform must have
   * one account only (sign-up closed once it exists).
   */
  singleUser: boolean;
  /** One line for the start-up log and the dashboard. */
  summary: string;
  /** What is missing, with what to install. */
  problems: string[];
}

/** Starts build-server runs somewhere: a child process, a container, an ECS task. */
export interface Runner {
  readonly name: string;
  readonly isolation: RunnerIsolation;
  /** Starts a build; the runner decides the sandbox (`task.sandbox`) from what its host can give. */
  start(task: BuildTaskRequest): Promise<StartedTask>;
  /**
   * Asks the task to stop (and makes sure it does: SIGKILL or `StopTask` after a grace). The
   * platform, not the runner, records the deployment's end; stopping an ended or unknown task
   * is not an error.
   */
  stop(taskId: string, reason: string): Promise<void>;
  describe(taskId: string): Promise<RunnerTaskState>;
  /** Calls `listener` as soon as a task this runner watches ends, so its fate is settled at once. */
  onTaskEnded?(listener: (taskId: string) => void): void;
  /**
   * Removes the scratch space of builds that no longer run (a hard-killed platform's
   * leftovers); returns the deployment ids whose folders it removed. `finished` says which of
   * some deployments have ended, for folders in places the platform shares with others.
   * Runners whose builds have a file system of their own (containers, ECS) have nothing to sweep.
   */
  sweepScratch?(finished?: (deploymentIds: string[]) => Promise<string[]>): Promise<string[]>;
  /**
   * Shutdown. The local runner kills its children (they die with the embedded platform);
   * ECS tasks and detached containers keep running and are reconciled by the next start.
   */
  close(): Promise<void>;
}
