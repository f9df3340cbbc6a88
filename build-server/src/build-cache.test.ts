import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalObjectStore } from '@platform/object-store';
import { removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { dependencyCacheKey, packageManagerCacheEnv, restoreCache, saveCache } from './build-cache.ts';
import type { PackageManager } from './detect.ts';

afterAll(removeTempDirs);

const npm: PackageManager = { name: 'npm', version: null, berry: false, invoke: ['npm'], tool: null, lockfile: 'package-lock.json' };

describe('build cache', () => {
  it('keys on the lockfile content, the package manager and the Node version', async () => {
    const dir = tempDir('lock');
    const lock = join(dir, 'package-lock.json');
    writeFileSync(lock, '{"lockfileVersion":3}');
    const key = await dependencyCacheKey({ projectId: 'proj/1', packageManager: npm, dependencyFile: lock, nodeVersion: '20.19.0' });
    expect(key).toMatch(/^build-cache\/proj_1\/deps-npm-node20-[0-9a-f]{32}\.tar\.gz$/);
    expect(await dependencyCacheKey({ projectId: 'proj/1', packageManager: npm, dependencyFile: lock, nodeVersion: '20.19.0' })).toBe(key);
    expect(await dependencyCacheKey({ projectId: 'proj/1', packageManager: npm, dependencyFile: lock, nodeVersion: '22.1.0' })).not.toBe(key);
    expect(
      await dependencyCacheKey({
        projectId: 'proj/1',
        packageManager: { ...npm, name: 'pnpm', invoke: ['pnpm'] },
        dependencyFile: lock,
        nodeVersion: '20.19.0',
      }),
    ).not.toBe(key);
    writeFileSync(lock, '{"lockfileVersion":3,"packages":{}}');
    expect(await dependencyCacheKey({ projectId: 'proj/1', packageManager: npm, dependencyFile: lock, nodeVersion: '20.19.0' })).not.toBe(key);
  });

  it('saves a folder to the object store and restores it into another, byte for byte', async () => {
    const store = createLocalObjectStore({ rootDir: tempDir('store') });
    const source = tempDir('cache');
    mkdirSync(join(source, 'npm', '_cacache', 'content'), { recursive: true });
    writeFileSync(join(source, 'npm', '_cacache', 'content', 'blob'), Buffer.alloc(100_000, 3));
    writeFileSync(join(source, 'npm', 'index.json'), '{"a":1}');
    expect(await restoreCache(store, 'build-cache/p/k.tar.gz', tempDir('none'))).toEqual({ hit: false });

    expect(await saveCache(store, 'build-cache/p/k.tar.gz', source, 10 * 1024 ** 2)).toEqual({ saved: true, bytes: 100_007 });
    const target = tempDir('restored');
    const restored = await restoreCache(store, 'build-cache/p/k.tar.gz', target);
    expect(restored.hit).toBe(true);
    // The hit is recorded beside the cache, for least-recently-used eviction.
    expect(await store.list('build-cache/p/')).toEqual(['build-cache/p/k.tar.gz', 'build-cache/p/k.tar.gz.used']);
    expect(readFileSync(join(target, 'npm', '_cacache', 'content', 'blob'))).toEqual(Buffer.alloc(100_000, 3));
    expect(readFileSync(join(target, 'npm', 'index.json'), 'utf8')).toBe('{"a":1}');
  });

  it('leaves symbolic links out of the archive, and refuses an archive that would write outside its folder', async () => {
    const store = createLocalObjectStore({ rootDir: tempDir('store') });
    const source = tempDir('cache');
    writeFileSync(join(source, 'real'), 'content');
    symlinkSync('/etc/passwd', join(source, 'link'));
    await saveCache(store, 'build-cache/p/links.tar.gz', source, 1024 ** 2);
    const target = tempDir('restored');
    await restoreCache(store, 'build-cache/p/links.tar.gz', target);
    expect(readdirSync(target)).toEqual(['real']);

    // A poisoned cache: an entry with a `..` path, packed with preservePaths.
    const base = tempDir('evil');
    mkdirSync(join(base, 'inner'));
    writeFileSync(join(base, 'outside.txt'), 'escaped');
    const evil = tar.c({ cwd: join(base, 'inner'), gzip: true, preservePaths: true }, ['../outside.txt']);
    await store.put('build-cache/p/evil.tar.gz', Readable.from(evil, { objectMode: false }));
    const victim = tempDir('victim');
    const into = join(victim, 'cache');
    await expect(restoreCache(store, 'build-cache/p/evil.tar.gz', into)).rejects.toThrow();
    expect(existsSync(join(victim, 'outside.txt'))).toBe(false);
    expect(readdirSync(into)).toEqual([]);
  });

  it('does not save an empty or oversized cache', async () => {
    const store = createLocalObjectStore({ rootDir: tempDir('store') });
    expect(await saveCache(store, 'build-cache/p/a.tar.gz', tempDir('empty'), 1000)).toEqual({ saved: false, reason: 'nothing to cache' });
    const big = tempDir('big');
    writeFileSync(join(big, 'f'), Buffer.alloc(5000));
    expect((await saveCache(store, 'build-cache/p/b.tar.gz', big, 1000)).saved).toBe(false);
    expect(await store.list('build-cache/')).toEqual([]);
  });

  it('points every package manager at the cache folder, offline-first only after a hit', () => {
    expect(packageManagerCacheEnv('/c', { preferOffline: false })).toEqual({
      npm_config_cache: '/c/npm',
      XDG_DATA_HOME: '/c/xdg-data',
      XDG_CACHE_HOME: '/c/xdg-cache',
      YARN_CACHE_FOLDER: '/c/yarn',
      YARN_GLOBAL_FOLDER: '/c/yarn-global',
      BUN_INSTALL_CACHE_DIR: '/c/bun',
    });
    expect(packageManagerCacheEnv('/c', { preferOffline: true }).npm_config_prefer_offline).toBe('true');
  });
});
