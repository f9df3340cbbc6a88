import { randomBytes } from 'node:crypto';
import { createPostgresDb } from '@platform/db';
import { integrationEnv } from '@platform/testing/infra-env';
import { gitIntegrationSuite } from './api/git-integration.suite.ts';

// The git integration's SQL (the outbox's SKIP LOCKED claims, bigint GitHub ids) on the shared
// PostgreSQL server, in a scratch database of its own.
gitIntegrationSuite('the GitHub App on PostgreSQL: private clones, pull-request previews, statuses and comments', async () => {
  const { DATABASE_URL } = integrationEnv('DATABASE_URL');
  const database = `git_${randomBytes(4).toString('hex')}`;
  const admin = await createPostgresDb({ connectionString: DATABASE_URL, maxConnections: 1 });
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.close();
  const url = new URL(DATABASE_URL);
  url.pathname = `/${database}`;
  return {
    env: { DATABASE_URL: url.toString(), JWT_SECRET: randomBytes(32).toString('hex'), ENV_ENCRYPTION_KEY: randomBytes(32).toString('hex') },
    cleanup: async () => {
      const db = await createPostgresDb({ connectionString: DATABASE_URL, maxConnections: 1 });
      await db.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await db.close();
    },
  };
});
