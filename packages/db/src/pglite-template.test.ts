import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from './migrate.ts';
import { createPgliteDb } from './pglite.ts';

const root = mkdtempSync(join(tmpdir(), 'pglite-template-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('PGlite template', () => {
  it('writes a migrated template from the first new data folder; later folders start from it, migrated and empty', async () => {
    const cache = join(root, 'cache');
    // A stale template of other migrations is pruned when the current one is written.
    const stale = join(cache, 'pglite-0123456789abcdef.tar');
    mkdirSync(cache, { recursive: true });
    writeFileSync(stale, 'not a tar');

    const first = await createPgliteDb({ dataDir: join(root, 'a'), templateCacheDir: cache });
    expect(await migrate(first)).toEqual([]);
    await first.query("INSERT INTO users (id, email, password_hash) VALUES ('u1', 'first@example.test', 'x')");
    await first.close();
    const templates = readdirSync(cache);
    expect(templates).toHaveLength(1);
    expect(templates[0]).toMatch(/^pglite-[0-9a-f]{16}\.tar$/);
    expect(templates[0]).not.toBe('pglite-0123456789abcdef.tar');

    const second = await createPgliteDb({ dataDir: join(root, 'b'), templateCacheDir: cache });
    expect(await migrate(second)).toEqual([]);
    // The template holds the schema only: nothing the first folder wrote after it was made.
    expect(await second.query('SELECT id FROM users')).toEqual([]);
    await second.close();

    // Reopening a data folder keeps its own data.
    const again = await createPgliteDb({ dataDir: join(root, 'a'), templateCacheDir: cache });
    expect(await again.query('SELECT id FROM users')).toEqual([{ id: 'u1' }]);
    await again.close();
  });

  it('leaves a new data folder empty without a template folder', async () => {
    const db = await createPgliteDb({ dataDir: join(root, 'plain') });
    expect(await db.query("SELECT to_regclass('public.users') AS users")).toEqual([{ users: null }]);
    expect((await migrate(db)).length).toBeGreaterThan(0);
    await db.close();
  });
});
