export { createApiServer, type ApiServer, type ApiDeps, type ApiOptions } from './api-server.ts';
export { loadApiConfig, apiConfigSchema, type ApiConfig, type ApiDriverSettings } from './config.ts';
export { createDrivers, createEmbeddedDrivers, buildTaskSettings, apiOptionsFrom, localBuildServerCommand, type RunnerKind } from './drivers.ts';
export { Urls } from './urls.ts';
