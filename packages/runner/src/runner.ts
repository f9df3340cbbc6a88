import type { BuildTask } from '@platform/contracts';

export interface StartedTask {
  /** The runner's own id for the task: a pid, a container id, an ECS task ARN. */
  taskId: string;
}

export interface RunnerTaskState {
  state: 'running' | 'stopped' | 'unknown';
  exitCode?: number;
  reason?: string;
}

/** Starts build-server runs somewhere: a child process, a container, an ECS task. */
export interface Runner {
  readonly name: string;
  start(task: BuildTask): Promise<StartedTask>;
  /** Stops the task; its deployment ends CANCELED with `reason`. */
  stop(taskId: string, reason: string): Promise<void>;
  describe(taskId: string): Promise<RunnerTaskState>;
  /** Stops every task this runner started (shutdown of the embedded default). */
  close(): Promise<void>;
}
