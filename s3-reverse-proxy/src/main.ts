/** The s3-reverse-proxy's composition root: the object store the config names (a local folder or S3). */
import { createLogger, onShutdown } from '@platform/logger';
import { createObjectStore } from '@platform/object-store';
import { loadProxyConfig, type ProxyConfig } from './config.ts';
import { createProxyServer } from './proxy.ts';

let config: ProxyConfig;
try {
  config = loadProxyConfig(process.env);
} catch (err) {
  process.stderr.write(`s3-reverse-proxy: ${(err as Error).message}\n`);
  process.exit(1);
}
const logger = createLogger({ level: config.LOG_LEVEL, name: 's3-reverse-proxy' });
const store = createObjectStore(config.drivers.storage);
logger.info({ storage: config.drivers.storage.driver }, 'object store chosen by configuration');
const proxy = createProxyServer({ store, logger }, { routeTtlMs: config.ROUTE_CACHE_TTL_MS });
const port = await proxy.listen(config.PROXY_PORT, config.PROXY_HOST);
logger.info({ port }, 's3-reverse-proxy listening');
onShutdown(logger, [
  { name: 'stop proxy', run: () => proxy.close() },
  { name: 'close object store', run: async () => store.close?.() },
]);
