/**
 * The s3-reverse-proxy's composition root. With PROXY_WORKERS > 1 the primary forks that many
 * workers sharing the port (node:cluster); each has its own caches and request-log batcher.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { CertificateStore, parseStoreKey, Sealer } from '@platform/certificates';
import { createInProcessEventBus, createKafkaEventBusFromSettings } from '@platform/event-bus';
import { createLogger, onShutdown } from '@platform/logger';
import { createObjectStore } from '@platform/object-store';
import { loadProxyConfig, proxyOptionsFrom, type ProxyConfig } from './config.ts';
import { createProxyServer } from './proxy.ts';

let config: ProxyConfig;
try {
  config = loadProxyConfig(process.env);
} catch (err) {
  // One line naming the variable; nothing is open yet.
  process.stderr.write(`s3-reverse-proxy: ${(err as Error).message}\n`);
  process.exit(1);
}
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
        await Promise.all(
          workers.map(
            (w) =>
              new Promise((resolve) => {
                w.once('exit', resolve);
                w.process.kill('SIGTERM');
              }),
          ),
        );
      },
    },
  ]);
} else {
  // The object store and bus the configuration names: a local folder or S3; request logs in
  // process or on Kafka (KAFKA_TOPIC_REQUESTS).
  const store = createObjectStore(config.drivers.storage);
  const bus = config.drivers.kafka
    ? createKafkaEventBusFromSettings(config.drivers.kafka, 's3-reverse-proxy', logger.child({ component: 'kafka' }))
    : createInProcessEventBus();
  logger.info({ storage: config.drivers.storage.driver, bus: config.drivers.kafka ? 'kafka' : 'in-process' }, 'drivers chosen by configuration');
  // HTTPS for custom domains: certificates from the same bucket, their keys opened with CERTIFICATE_STORE_KEY.
  const https =
    config.HTTPS_PORT !== undefined && config.CERTIFICATE_STORE_KEY
      ? {
          certificates: new CertificateStore(store, new Sealer(parseStoreKey(config.CERTIFICATE_STORE_KEY))),
          publicPort: config.HTTPS_PORT,
          certificateRefreshMs: config.CERTIFICATE_REFRESH_MS,
          defaultCertificate:
            config.TLS_CERT_FILE && config.TLS_KEY_FILE
              ? { certPem: readFileSync(config.TLS_CERT_FILE, 'utf8'), keyPem: readFileSync(config.TLS_KEY_FILE, 'utf8') }
              : undefined,
        }
      : undefined;
  const proxy = createProxyServer({ store, bus, logger }, { ...proxyOptionsFrom(config), https });
  const port = await proxy.listen(config.PROXY_PORT, config.PROXY_HOST);
  const httpsPort = https ? await proxy.listenHttps(config.HTTPS_PORT!, config.PROXY_HOST) : undefined;
  logger.info({ port, httpsPort, pid: process.pid }, 's3-reverse-proxy listening');
  onShutdown(logger, [
    { name: 'stop proxy, flush request logs', run: () => proxy.close() },
    { name: 'close event bus', run: () => bus.close() },
    { name: 'close object store', run: async () => store.close?.() },
    // A cluster worker's IPC channel would keep it alive after everything else closed.
    { name: 'leave the cluster', run: async () => cluster.worker?.disconnect() },
  ]);
}
