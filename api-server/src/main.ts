/**
 * The api-server's composition root: parse config once, build the drivers, hand them to
 * `createApiServer`, listen, and shut down in named steps.
 */
import { createLogger, onShutdown } from '@platform/logger';
import { createApiServer } from './api-server.ts';
import { loadApiConfig } from './config.ts';
import { apiOptionsFrom, createEmbeddedDrivers } from './drivers.ts';

const config = loadApiConfig(process.env);
const logger = createLogger({ level: config.LOG_LEVEL, name: 'api-server' });
const deps = await createEmbeddedDrivers(config, logger);
const api = await createApiServer(deps, apiOptionsFrom(config));
const port = await api.listen(config.API_PORT, config.API_HOST);
logger.info({ port }, 'api-server listening');

onShutdown(logger, [
  { name: 'stop api (http, sockets, consumer, scheduler)', run: () => api.close() },
  { name: 'stop running builds', run: () => deps.runner.close() },
  { name: 'flush event bus', run: () => deps.bus.close() },
  { name: 'close clickhouse', run: () => deps.clickhouse.close() },
  { name: 'close database', run: () => deps.db.close() },
]);
