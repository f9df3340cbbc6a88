import { randomBytes } from 'node:crypto';
import { createPostgresDb, migrate, type Db } from '@platform/db';
import { integrationEnv } from '@platform/testing/infra-env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainsRepo } from './domains-repo.ts';

// The certificate-order lease on real PostgreSQL, where two replicas really run at once: two
// pools (two api-servers) race for the same due domain many times over; one wins each time.
describe('DomainsRepo leases on PostgreSQL', () => {
  const name = `domains_${randomBytes(5).toString('hex')}`;
  let admin: Db;
  let replicas: Db[];
  beforeAll(async () => {
    const { DATABASE_URL } = integrationEnv('DATABASE_URL');
    admin = await createPostgresDb({ connectionString: DATABASE_URL, maxConnections: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(DATABASE_URL);
    url.pathname = `/${name}`;
    replicas = [
      await createPostgresDb({ connectionString: url.toString(), maxConnections: 5 }),
      await createPostgresDb({ connectionString: url.toString(), maxConnections: 5 }),
    ];
    await migrate(replicas[0]!);
    await replicas[0]!.query(`INSERT INTO projects (id, name, slug, git_url) VALUES ('prj_1', 'shop', 'shop', 'https://git.example.com/shop.git')`);
  });
  afterAll(async () => {
    for (const db of replicas ?? []) await db.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.close();
  });

  it('gives each due domain to exactly one of many concurrent claims from two replicas', async () => {
    const [a, b] = replicas.map((db) => new DomainsRepo(db)) as [DomainsRepo, DomainsRepo];
    for (let round = 0; round < 10; round++) {
      const hostname = `r${round}.shop.example`;
      await a.create({ hostname, projectId: 'prj_1', branch: null, redirectTo: null, hsts: false, verificationToken: 't' });
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claimDue(`owner-${i}`, 60_000)));
      const winners = claims.filter((c) => c !== null);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(winners[0]!.hostname).toBe(hostname);
    }
  });
});
