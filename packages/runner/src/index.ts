export { RunnerStartError, type Runner, type RunnerIsolation, type RunnerTaskState, type StartedTask } from './runner.ts';
export { relayBuildEvents } from './relay.ts';
export { createLocalRunner, type LocalRunnerOptions } from './local.ts';
export { createEcsRunner, type EcsRunnerOptions } from './ecs.ts';
export { createContainerRunner, CONTAINER_NAME_PREFIX, CONTAINER_SANDBOX_UID, type ContainerLimits, type ContainerRunnerOptions } from './container.ts';
