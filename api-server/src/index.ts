export { createApiServer, type ApiServer, type ApiDeps, type ApiOptions } from './api-server.ts';
export { loadApiConfig, type ApiConfig } from './config.ts';
export { createEmbeddedDrivers, apiOptionsFrom, localBuildServerCommand } from './drivers.ts';
export { Urls } from './urls.ts';
