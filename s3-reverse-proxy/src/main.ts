/** The s3-reverse-proxy's composition root. */
import { join } from 'node:path';
import { createLogger, onShutdown } from '@platform/logger';
import { createLocalObjectStore } from '@platform/object-store';
import { loadProxyConfig } from './config.ts';
import { createProxyServer } from './proxy.ts';

const config = loadProxyConfig(process.env);
const logger = createLogger({ level: config.LOG_LEVEL, name: 's3-reverse-proxy' });
const store = createLocalObjectStore({ rootDir: join(config.dataDir, 'objects') });
const proxy = createProxyServer({ store, logger }, { routeTtlMs: config.ROUTE_CACHE_TTL_MS });
const port = await proxy.listen(config.PROXY_PORT, config.PROXY_HOST);
logger.info({ port }, 's3-reverse-proxy listening');
onShutdown(logger, [{ name: 'stop proxy', run: () => proxy.close() }]);
