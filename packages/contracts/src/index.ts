export * from './ids.ts';
export * from './build-task.ts';
export * from './build-events.ts';
export * from './api.ts';
export * from './routes.ts';
export * from './manifest.ts';
export * from './commands.ts';
export * from './git-url.ts';
