import { createPgliteDb, migrate, type Db } from '@platform/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renewalTime } from './certificates-worker.ts';
import { DomainsRepo } from './domains-repo.ts';

// The lease that keeps two api-server replicas from ordering the same domain at once: a claim
// is one UPDATE, so of two replicas asking together only one gets the domain, and nobody gets
// it again before the lease runs out or the holder finishes.
describe('DomainsRepo leases', () => {
  let db: Db;
  let repo: DomainsRepo;
  beforeAll(async () => {
    db = await createPgliteDb();
    await migrate(db);
    await db.query(`INSERT INTO projects (id, name, slug, git_url) VALUES ('prj_1', 'shop', 'shop', 'https://git.example.com/shop.git')`);
    repo = new DomainsRepo(db);
    await repo.create({ hostname: 'shop.example', projectId: 'prj_1', branch: null, redirectTo: null, hsts: false, verificationToken: 't' });
  });
  afterAll(() => db?.close());

  it('gives a due domain to one replica of two asking at once', async () => {
    const [a, b] = await Promise.all([repo.claimDue('replica-a', 60_000), repo.claimDue('replica-b', 60_000)]);
    expect([a?.lease_owner, b?.lease_owner].filter(Boolean)).toHaveLength(1);
    expect(await repo.claimDue('replica-c', 60_000)).toBeNull();
  });

  it('only the holder records an outcome; then it is due again at the time it set', async () => {
    const holder = (await db.query<{ lease_owner: string }>(`SELECT lease_owner FROM domains WHERE hostname = 'shop.example'`))[0]!.lease_owner;
    const outcome = { status: 'pending' as const, statusReason: 'waiting', attempts: 1, nextAttemptAt: new Date(Date.now() - 1) };
    expect(await repo.finish('shop.example', 'someone-else', outcome)).toBeNull();
    const done = await repo.finish('shop.example', holder, outcome);
    expect(done?.lease_owner).toBeNull();
    expect(done?.status_reason).toBe('waiting');
    expect((await repo.claimDue('replica-c', 60_000))?.lease_owner).toBe('replica-c');
  });

  it('a lease that ran out (its replica died) is claimed by another', async () => {
    await db.query(`UPDATE domains SET lease_until = now() - interval '1 second' WHERE hostname = 'shop.example'`);
    expect((await repo.claimDue('replica-d', 60_000))?.lease_owner).toBe('replica-d');
  });

  it('a hostname is claimed by one project only, and another project cannot read or remove it', async () => {
    await db.query(`INSERT INTO projects (id, name, slug, git_url) VALUES ('prj_2', 'blog', 'blog', 'https://git.example.com/blog.git')`);
    expect(await repo.create({ hostname: 'shop.example', projectId: 'prj_2', branch: null, redirectTo: null, hsts: false, verificationToken: 'u' })).toBeNull();
    expect(await repo.get('prj_2', 'shop.example')).toBeNull();
    expect(await repo.delete('prj_2', 'shop.example')).toBeNull();
    expect(await repo.retryNow('prj_2', 'shop.example')).toBeNull();
    expect(await repo.get('prj_1', 'shop.example')).not.toBeNull();
  });

  it('renews two thirds into the lifetime', () => {
    expect(renewalTime(new Date(0), new Date(90_000)).getTime()).toBe(60_000);
  });
});
