export type { Runner, RunnerTaskState, StartedTask } from './runner.ts';
export { createLocalRunner, type LocalRunnerOptions } from './local.ts';
