/**
 * The s3-reverse-proxy's composition root. With PROXY_WORKERS > 1 the primary forks that many
 * workers sharing the port (node:cluster); each has its own caches and request-log batcher.
 */
import cluster from 'node:cluster';
import { join } from 'node:path';
import { createInProcessEventBus } from '@platform/event-bus';
import { createLogger, onShutdown } from '@platform/logger';
import { createLocalObjectStore } from '@platform/object-store';
import { loadProxyConfig, proxyOptionsFrom } from './config.ts';
import { createProxyServer } from './proxy.ts';

const config = loadProxyConfig(process.env);
const logger = createLogger({ level: config.LOG_LEVEL, name: 's3-reverse-proxy' });

if (config.PROXY_WORKERS > 1 && cluster.isPrimary) {
  let stopping = false;
  for (let i = 0; i < config.PROXY_WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'a proxy worker died; starting another');
    cluster.fork();
  });
  logger.info({ workers: config.PROXY_WORKERS, port: config.PROXY_PORT }, 's3-reverse-proxy primary started');
  onShutdown(logger, [
    {
      name: 'stop workers',
      run: async () => {
        stopping = true;
        const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
        await Promise.all(workers.map((w) => new Promise((resolve) => { w.once('exit', resolve); w.process.kill('SIGTERM'); })));
      },
    },
  ]);
} else {
  const store = createLocalObjectStore({ rootDir: join(config.dataDir, 'objects') });
  // Embedded default: request logs stay in this process. The distributed mode passes the Kafka bus here.
  const bus = createInProcessEventBus();
  const proxy = createProxyServer({ store, bus, logger }, proxyOptionsFrom(config));
  const port = await proxy.listen(config.PROXY_PORT, config.PROXY_HOST);
  logger.info({ port, pid: process.pid }, 's3-reverse-proxy listening');
  onShutdown(logger, [
    { name: 'stop proxy, flush request logs', run: () => proxy.close() },
    { name: 'close event bus', run: () => bus.close() },
    // A cluster worker's IPC channel would keep it alive after everything else closed.
    { name: 'leave the cluster', run: async () => cluster.worker?.disconnect() },
  ]);
}
