import { describe, expect, it } from 'vitest';
import { integrationEnv } from '@platform/testing/infra-env';
import { scratchDatabase as scratchOn } from '@platform/testing/postgres';
import { describeDbContract } from './db.contract.ts';
import { migrate } from './migrate.ts';
import { createPostgresDb } from './pg.ts';

/** A scratch database per suite: migrations run on an empty schema, nothing shared with other tests. */
const scratchDatabase = () => scratchOn(integrationEnv('DATABASE_URL').DATABASE_URL, 'contract');

describeDbContract('PostgreSQL via pg', async () => {
  const scratch = await scratchDatabase();
  return { db: await createPostgresDb({ connectionString: scratch.url, maxConnections: 5 }), cleanup: scratch.drop };
});

describe('PostgreSQL driver', () => {
  it('lets several replicas migrate an empty database at once: each file is applied exactly once', async () => {
    const scratch = await scratchDatabase();
    const replicas = await Promise.all(Array.from({ length: 4 }, () => createPostgresDb({ connectionString: scratch.url, maxConnections: 2 })));
    try {
      const applied = await Promise.all(replicas.map((db) => migrate(db)));
      const all = applied.flat();
      expect(all.length).toBeGreaterThan(0);
      expect(new Set(all).size).toBe(all.length);
      expect(applied.filter((files) => files.length > 0)).toHaveLength(1);
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
      await scratch.drop();
    }
  });

  it('runs transactions concurrently, each on its own connection', async () => {
    const scratch = await scratchDatabase();
    const db = await createPostgresDb({ connectionString: scratch.url, maxConnections: 4 });
    try {
      await db.query('CREATE TABLE counter (n int NOT NULL)');
      await db.query('INSERT INTO counter VALUES (0)');
      // Each transaction holds a row lock across an await; on a shared connection these would interleave.
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const [row] = await tx.query<{ n: number }>('SELECT n FROM counter FOR UPDATE');
            await tx.query('SELECT pg_sleep(0.005)');
            await tx.query('UPDATE counter SET n = $1', [row!.n + 1]);
          }),
        ),
      );
      expect(await db.query('SELECT n FROM counter')).toEqual([{ n: 20 }]);
    } finally {
      await db.close();
      await scratch.drop();
    }
  });

  it('refuses to start with a wrong password, naming the cause', async () => {
    const { DATABASE_URL } = integrationEnv('DATABASE_URL');
    const url = new URL(DATABASE_URL);
    url.password = 'wrong-password';
    await expect(createPostgresDb({ connectionString: url.toString() })).rejects.toThrow(/password authentication failed/);
  });
});
