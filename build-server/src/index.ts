export { runBuild, type BuildDeps } from './pipeline.ts';
export { BuildEventEmitter } from './events.ts';
export { cloneRepository, type CloneOptions } from './git.ts';
