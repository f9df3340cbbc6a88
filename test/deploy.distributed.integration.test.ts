import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventSchema, type BuildEvent } from '@platform/contracts';
import { createPostgresDb } from '@platform/db';
import { createKafkaEventBus, type EventBus } from '@platform/event-bus';
import { createS3ObjectStore, type ObjectStore } from '@platform/object-store';
import { integrationEnv, sharedKafkaEnv, sharedKafkaSasl } from '@platform/testing/infra-env';
import { deployedFile } from '@platform/testing/build';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, signUpDefaultUser, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

/**
 * The walking skeleton's deploy path in distributed mode, chosen by environment alone:
 * PostgreSQL for metadata, Apache Kafka for build events, S3 (moto) for build output and
 * routes, the ClickHouse engine (chDB; no ClickHouse server can run here) for logs, and the
 * local runner. Isolated from other runs on the same servers by a scratch database, fresh
 * topics and a fresh project name (hostnames are route keys in the shared bucket).
 */
describe('deploy path in distributed mode (PostgreSQL + Kafka + S3 + chDB, local runner)', () => {
  const run = randomBytes(4).toString('hex');
  const topics = { logs: `build-events-e2e-${run}`, requests: `request-logs-e2e-${run}` };
  let env: ReturnType<typeof settings>;
  let platform: TestPlatform;
  let dropDatabase: () => Promise<void>;
  let databaseUrl: string;

  function settings() {
    return integrationEnv('DATABASE_URL', 'KAFKA_BROKERS', 'S3_ENDPOINT', 'S3_BUCKET', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
  }

  beforeAll(async () => {
    env = settings();
    const admin = await createPostgresDb({ connectionString: env.DATABASE_URL, maxConnections: 1 });
    const database = `e2e_${run}`;
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.close();
    const url = new URL(env.DATABASE_URL);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const db = await createPostgresDb({ connectionString: env.DATABASE_URL, maxConnections: 1 });
      await db.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await db.close();
    };

    platform = await startEmbeddedPlatform({
      DATABASE_URL: databaseUrl,
      ...sharedKafkaEnv(),
      KAFKA_TOPIC_LOGS: topics.logs,
      KAFKA_TOPIC_REQUESTS: topics.requests,
      S3_BUCKET: env.S3_BUCKET,
      AWS_REGION: env.AWS_REGION,
      S3_ENDPOINT: env.S3_ENDPOINT,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ENV_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    });
    await signUpDefaultUser(platform.api);
  });
  afterAll(async () => {
    await platform?.close();
    await dropDatabase?.();
  });

  it('builds a project, writes its output to S3, its state to PostgreSQL and its events to Kafka, and serves it', async () => {
    const name = `dist-${run}`;
    const repo = gitRepoFromFixture('vanilla-site');
    const created = await http(platform.api, 'POST', '/project', { name, gitUrl: repo });
    expect(created.status).toBe(201);
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: created.json.project.id });
    expect(deploy.status).toBe(202);
    const done = await waitForDeployment(platform.api, deploy.json.deployment.id, 120_000);
    expect(done.status).toBe('READY');

    // Served through the proxy, from S3.
    const home = await viaProxy(platform.proxyPort, `${name}.localhost`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(home.text).toContain('Vanilla fixture home');
    expect((await viaProxy(platform.proxyPort, `${name}.localhost`, '/docs')).text).toContain('Docs index');
    expect((await viaProxy(platform.proxyPort, `${name}.localhost`, '/data.json')).json).toEqual({ built: true });
    expect((await viaProxy(platform.proxyPort, new URL(done.url).host)).text).toContain('Vanilla fixture home');
    expect((await viaProxy(platform.proxyPort, `${name}.localhost`, '/no/such/page')).status).toBe(404);

    // The bytes really are in the bucket (a client of its own, not the platform's).
    const s3: ObjectStore = createS3ObjectStore({
      bucket: env.S3_BUCKET,
      region: env.AWS_REGION,
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: true,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    try {
      // Content-addressed: the manifest under the deployment, the bytes under the project's content.
      expect(await s3.list(`deployments/${done.id}/`)).toEqual([`deployments/${done.id}/_manifest.json`]);
      expect((await deployedFile(s3, done.id, 'index.html'))?.length).toBeGreaterThan(0);
      const route = JSON.parse((await s3.getBuffer(`routes/${name}.localhost.json`))!.toString('utf8'));
      expect(route).toMatchObject({ deploymentId: done.id });
    } finally {
      await s3.close?.();
    }

    // The deployment row is in PostgreSQL.
    const db = await createPostgresDb({ connectionString: databaseUrl, maxConnections: 1 });
    try {
      expect(await db.query('SELECT status, commit_sha FROM deployments WHERE id = $1', [done.id])).toEqual([{ status: 'READY', commit_sha: done.commit }]);
    } finally {
      await db.close();
    }

    // Every build event went through the Kafka topic named by KAFKA_TOPIC_LOGS, keyed by deployment, seq 1, 2, 3...
    const events = await readTopic(
      env.KAFKA_BROKERS,
      topics.logs,
      (e) => e.deploymentId === done.id,
      (all) => all.some((e) => e.type === 'status' && e.status === 'READY'),
    );
    const seqs = [...new Set(events.map((e) => e.seq))].sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', stream: 'stdout', message: 'copied src to dist' }));

    // And the log, read back from ClickHouse (chDB), is complete and ordered.
    const logs = await http(platform.api, 'GET', `/deployments/${done.id}/logs`);
    const lines = logs.json.lines as { seq: number; stream: string; message: string }[];
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stderr', message: 'a warning on stderr' }));
    expect(lines.length).toBe(events.filter((e) => e.type === 'log').length);
  });

  it('ends a failing build in ERROR with its stderr in the logs, and publishes nothing', async () => {
    const name = `dist-fail-${run}`;
    const repo = gitRepoFromFixture('failing-build');
    const created = await http(platform.api, 'POST', '/project', { name, gitUrl: repo });
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: created.json.project.id });
    const done = await waitForDeployment(platform.api, deploy.json.deployment.id, 120_000);
    expect(done.status).toBe('ERROR');
    expect(done.errorMessage).toBe('build command "npm run build" exited with code 1');
    const logs = await http(platform.api, 'GET', `/deployments/${done.id}/logs`);
    expect(logs.json.lines).toContainEqual(expect.objectContaining({ stream: 'stderr', message: 'Error: Cannot find module "./missing-component"' }));
    expect((await viaProxy(platform.proxyPort, `${name}.localhost`)).status).toBe(404);
  });
});

/** Reads a topic from its beginning with a throwaway group until `enough` holds (or 30 s). */
async function readTopic(brokers: string, topic: string, keep: (e: BuildEvent) => boolean, enough: (events: BuildEvent[]) => boolean): Promise<BuildEvent[]> {
  const sasl = sharedKafkaSasl();
  const bus: EventBus = createKafkaEventBus({ brokers: brokers.split(','), clientId: 'e2e-reader', ...(sasl ? { sasl } : {}) });
  const events: BuildEvent[] = [];
  try {
    await bus.subscribe(topic, { groupId: `e2e-reader-${randomBytes(4).toString('hex')}`, fromBeginning: true }, async (batch) => {
      for (const m of batch) {
        const event = buildEventSchema.parse(JSON.parse(m.value));
        expect(m.key).toBe(event.deploymentId);
        if (keep(event)) events.push(event);
      }
    });
    const until = Date.now() + 30_000;
    while (!enough(events) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    return events;
  } finally {
    await bus.close();
  }
}
