/**
 * The api-server's composition root: parse config once, build the drivers the config names
 * (embedded or distributed), hand them to `createApiServer`, listen, and shut down in named
 * steps.
 */
import { createLogger, onShutdown } from '@platform/logger';
import { createApiServer } from './api-server.ts';
import { loadApiConfig, type ApiConfig } from './config.ts';
import { apiOptionsFrom, createDrivers } from './drivers.ts';

let config: ApiConfig;
try {
  config = loadApiConfig(process.env);
} catch (err) {
  // One line naming the variable; nothing is open yet, so exiting here skips no cleanup.
  process.stderr.write(`api-server: ${(err as Error).message}\n`);
  process.exit(1);
}
const logger = createLogger({ level: config.LOG_LEVEL, name: 'api-server' });
const { drivers } = config;
logger.info(
  { db: drivers.db.driver, storage: drivers.storage.driver, bus: drivers.bus.driver, clickhouse: drivers.clickhouse.driver },
  'drivers chosen by configuration',
);
const deps = await createDrivers(config, logger);
const api = await createApiServer(deps, apiOptionsFrom(config, deps.runner));
const port = await api.listen(config.API_PORT, config.API_HOST);
logger.info({ port }, 'api-server listening');

onShutdown(logger, [
  { name: 'stop api (http, sockets, consumer, scheduler)', run: () => api.close() },
  { name: 'stop running builds', run: () => deps.runner.close() },
  { name: 'close the upload-credentials client', run: async () => deps.uploadCredentials?.close() },
  { name: 'flush event bus', run: () => deps.bus.close() },
  { name: 'close object store', run: async () => deps.store.close?.() },
  { name: 'close clickhouse', run: () => deps.clickhouse.close() },
  { name: 'close database', run: () => deps.db.close() },
]);
