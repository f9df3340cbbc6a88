export { runBuild, type BuildDeps } from './pipeline.ts';
export { BuildEventEmitter } from './events.ts';
