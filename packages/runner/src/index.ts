export { RunnerStartError, type Runner, type RunnerTaskState, type StartedTask } from './runner.ts';
export { createLocalRunner, type LocalRunnerOptions } from './local.ts';
export { createEcsRunner, type EcsRunnerOptions } from './ecs.ts';
export { createContainerRunner, CONTAINER_NAME_PREFIX, type ContainerLimits, type ContainerRunnerOptions } from './container.ts';
