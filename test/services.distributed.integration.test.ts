import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDb } from '@platform/db';
import { integrationEnv, sharedKafkaEnv } from '@platform/testing/infra-env';
import { viaProxy } from '@platform/testing/proxy';
import { freePort } from '@platform/testing/ports';

const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '..');

interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a service's composition root as its own process, as a container would. */
function startService(entry: string, env: Record<string, string>): Service {
  const child = spawn(process.execPath, ['--import', require.resolve('tsx'), join(ROOT, entry)], {
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForHttp(url: string, service: Service): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    if (service.child.exitCode !== null) throw new Error(`service exited early:\n${service.output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > until) throw new Error(`no answer from ${url}:\n${service.output()}`);
    await sleep(200);
  }
}

// Each service started on its own from its main.ts, with the distributed settings in its
// environment only: the drivers are chosen by configuration alone.
describe('services started alone in distributed mode', () => {
  const started: Service[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    for (const c of cleanups.reverse()) await c();
  });

  it('the api-server runs on PostgreSQL, Kafka and S3, answers, and stops cleanly on SIGTERM', async () => {
    const env = {
      ...integrationEnv('DATABASE_URL', 'KAFKA_BROKERS', 'S3_ENDPOINT', 'S3_BUCKET', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'),
      ...sharedKafkaEnv(),
    };
    const run = randomBytes(4).toString('hex');
    const admin = await createPostgresDb({ connectionString: env.DATABASE_URL, maxConnections: 1 });
    await admin.query(`CREATE DATABASE svc_${run}`);
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS svc_${run} WITH (FORCE)`);
      await admin.close();
    });
    const dbUrl = new URL(env.DATABASE_URL);
    dbUrl.pathname = `/svc_${run}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'api-alone-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

    const port = await freePort();
    const api = startService('api-server/src/main.ts', {
      ...env,
      DATABASE_URL: dbUrl.toString(),
      S3_FORCE_PATH_STYLE: 'true',
      KAFKA_TOPIC_LOGS: `build-events-svc-${run}`,
      KAFKA_TOPIC_REQUESTS: `request-logs-svc-${run}`,
      DATA_DIR: dataDir,
      API_PORT: String(port),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ENV_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    });
    started.push(api);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, api);
    expect(api.output()).toMatch(/"db":"postgres","storage":"s3","bus":"kafka","clickhouse":"chdb"/);

    // It migrated the database it was given.
    const db = await createPostgresDb({ connectionString: dbUrl.toString(), maxConnections: 1 });
    expect((await db.query<{ name: string }>('SELECT name FROM schema_migrations')).length).toBeGreaterThan(0);
    await db.close();

    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(api.output()).toContain('"msg":"stopped"');
  });

  it('the proxy serves from S3 and stops cleanly on SIGTERM', async () => {
    const env = integrationEnv('S3_ENDPOINT', 'S3_BUCKET', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
    const port = await freePort();
    const proxy = startService('s3-reverse-proxy/src/main.ts', { ...env, S3_FORCE_PATH_STYLE: 'true', PROXY_PORT: String(port) });
    started.push(proxy);
    const until = Date.now() + 60_000;
    while (!proxy.output().includes('s3-reverse-proxy listening')) {
      if (proxy.child.exitCode !== null || Date.now() > until) throw new Error(`proxy did not start:\n${proxy.output()}`);
      await sleep(100);
    }
    expect(proxy.output()).toContain('"storage":"s3"');
    const unknown = await viaProxy(port, `nobody-${randomBytes(4).toString('hex')}.localhost`);
    expect(unknown.status).toBe(404);
    proxy.child.kill('SIGTERM');
    expect(await proxy.exited).toBe(0);
  });
});
