import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';

export interface DbUnderTest {
  db: Db;
  cleanup?: () => Promise<void>;
}

const MIGRATION_FILES = readdirSync(fileURLToPath(new URL('../migrations/', import.meta.url)))
  .filter((f) => f.endsWith('.sql'))
  .sort();

const freshId = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

/**
 * What code above `Db` relies on, written once and run against every driver: `open` must
 * return a handle on an EMPTY database (migrations not applied yet).
 */
export function describeDbContract(driver: string, open: () => Promise<DbUnderTest>): void {
  describe(`Db contract: ${driver}`, () => {
    let subject: DbUnderTest;
    let db: Db;
    beforeAll(async () => {
      subject = await open();
      db = subject.db;
    });
    afterAll(async () => {
      await subject?.db.close();
      await subject?.cleanup?.();
    });

    const insertProject = (id: string, q: Pick<Db, 'query'> = db) =>
      q.query('INSERT INTO projects (id, name, slug, git_url) VALUES ($1, $2, $3, $4)', [id, id, id, 'https://example.com/r.git']);
    const projectExists = async (id: string) => (await db.query('SELECT 1 FROM projects WHERE id = $1', [id])).length === 1;

    it('applies every migration once, in name order, and nothing the second time', async () => {
      expect(await migrate(db)).toEqual(MIGRATION_FILES);
      expect(await migrate(db)).toEqual([]);
      const applied = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(applied.map((r) => r.name)).toEqual(MIGRATION_FILES);
    });

    it('returns rows with the same JavaScript types on every driver', async () => {
      const rows = await db.query(
        `SELECT $1::int8 AS big, $2::text AS text, $3::timestamptz AS at, $4::jsonb AS doc, count(*) AS n,
                $5::boolean AS flag, $6::int4[] AS list, $7::int8[] AS bigs, NULL::text AS nothing, 9007199254740993::int8 AS huge
         FROM (VALUES (1), (2)) AS v(x)`,
        [42, 'it\u2019s', new Date(Date.UTC(2026, 10, 27, 10, 0, 0, 123)), JSON.stringify({ a: [1, 'b'] }), true, [1, 2], [3, 4]],
      );
      expect(rows).toEqual([
        {
          big: 42,
          text: 'it\u2019s',
          at: new Date(Date.UTC(2026, 10, 27, 10, 0, 0, 123)),
          doc: { a: [1, 'b'] },
          n: 2,
          flag: true,
          list: [1, 2],
          bigs: [3, 4],
          nothing: null,
          huge: 9007199254740993n,
        },
      ]);
    });

    it('treats parameters as data: SQL inside a value runs nothing', async () => {
      const id = freshId('prj');
      const hostile = "x'); DROP TABLE projects; --";
      await db.query('INSERT INTO projects (id, name, slug, git_url) VALUES ($1, $2, $3, $4)', [id, hostile, id, 'g']);
      const [row] = await db.query<{ name: string }>('SELECT name FROM projects WHERE id = $1', [id]);
      expect(row?.name).toBe(hostile);
    });

    it('reports a unique violation with its SQLSTATE code', async () => {
      const id = freshId('prj');
      await insertProject(id);
      await expect(insertProject(id)).rejects.toMatchObject({ code: '23505' });
    });

    it('commits a transaction when its function resolves, and returns its result', async () => {
      const id = freshId('prj');
      const result = await db.transaction(async (tx) => {
        await insertProject(id, tx);
        return (await tx.query<{ n: number }>('SELECT count(*) AS n FROM projects WHERE id = $1', [id]))[0]?.n;
      });
      expect(result).toBe(1);
      expect(await projectExists(id)).toBe(true);
    });

    it('rolls back every statement when the function throws, and rethrows its error', async () => {
      const a = freshId('prj');
      const b = freshId('prj');
      const failure = new Error('halfway');
      await expect(
        db.transaction(async (tx) => {
          await insertProject(a, tx);
          await insertProject(b, tx);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await projectExists(a)).toBe(false);
      expect(await projectExists(b)).toBe(false);
    });

    it('does not report success for a transaction whose statement failed, even if the function caught it', async () => {
      const id = freshId('prj');
      await expect(
        db.transaction(async (tx) => {
          await insertProject(id, tx);
          await tx.query('SELECT * FROM no_such_table').catch(() => undefined);
        }),
      ).rejects.toThrow();
      expect(await projectExists(id)).toBe(false);
    });

    it('runs every statement of a transaction inside that one transaction', async () => {
      const ids = await db.transaction(async (tx) => {
        const first = await tx.query<{ id: string }>('SELECT txid_current()::text AS id');
        await tx.query('SELECT pg_sleep(0.01)');
        const second = await tx.query<{ id: string }>('SELECT txid_current()::text AS id');
        return [first[0]?.id, second[0]?.id];
      });
      expect(ids[0]).toBeDefined();
      expect(ids[0]).toBe(ids[1]);
    });

    it('stays usable after many failed transactions (no connection is leaked)', async () => {
      const failures = await Promise.allSettled(
        Array.from({ length: 40 }, () =>
          db.transaction(async (tx) => {
            await tx.query('SELECT 1');
            throw new Error('fail');
          }),
        ),
      );
      expect(failures.every((f) => f.status === 'rejected')).toBe(true);
      expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });
  });
}
