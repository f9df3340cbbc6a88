import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { BUILD_CACHE_USE_SUFFIX, buildCachePrefix } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import type { PackageManager } from './detect.ts';

/**
 * The dependency cache is the package managers' own download stores (npm's cache, pnpm's
 * store, yarn's cache), kept in one folder per build. Caching `node_modules` would be useless
 * with `npm ci`, which deletes it first; a warm store makes every package manager install from
 * disk instead of the network, and is the same whatever the install command.
 */
export function packageManagerCacheEnv(cacheRoot: string, options: { preferOffline: boolean }): Record<string, string> {
  return {
    npm_config_cache: join(cacheRoot, 'npm'),
    // pnpm keeps its store and metadata cache under the XDG folders (it has no npm_config_ name npm would not warn about).
    XDG_DATA_HOME: join(cacheRoot, 'xdg-data'),
    XDG_CACHE_HOME: join(cacheRoot, 'xdg-cache'),
    YARN_CACHE_FOLDER: join(cacheRoot, 'yarn'),
    YARN_GLOBAL_FOLDER: join(cacheRoot, 'yarn-global'),
    BUN_INSTALL_CACHE_DIR: join(cacheRoot, 'bun'),
    // With a restored cache, use what is there without asking the registry whether it changed.
    ...(options.preferOffline ? { npm_config_prefer_offline: 'true' } : {}),
  };
}

/**
 * `build-cache/<projectId>/deps-<pm>-node<major>-<hash>.tar.gz`: the hash covers the lockfile
 * (or package.json when there is none), the package manager and its version, the exact Node
 * version and the platform, so a cache is only reused where it fits.
 */
export async function dependencyCacheKey(options: {
  projectId: string;
  packageManager: PackageManager;
  /** Absolute path of the lockfile, or of package.json when there is no lockfile. */
  dependencyFile: string;
  nodeVersion?: string;
}): Promise<string> {
  const { packageManager: pm } = options;
  const nodeVersion = options.nodeVersion ?? process.versions.node;
  const hash = createHash('sha256')
    .update(await readFile(options.dependencyFile))
    .update(`\0${pm.name}\0${pm.version ?? ''}\0${pm.invoke.join(' ')}\0${nodeVersion}\0${process.platform}-${process.arch}`)
    .digest('hex')
    .slice(0, 32);
  return `${buildCachePrefix(options.projectId)}deps-${pm.name}-node${nodeVersion.split('.')[0]}-${hash}.tar.gz`;
}

/** Unpacks the cache at `key` into `dir`; false when there is none. */
export async function restoreCache(store: ObjectStore, key: string, dir: string): Promise<{ hit: false } | { hit: true; bytes: number }> {
  const object = await store.get(key);
  if (!object) return { hit: false };
  await mkdir(dir, { recursive: true });
  try {
    // tar refuses absolute paths, `..` entries and links that escape, so an archive cannot write outside `dir`.
    await pipeline(object.body, tar.x({ cwd: dir, strict: true }));
  } catch (err) {
    // Half a cache is no cache: the install starts from an empty folder.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    throw err;
  }
  await markCacheUsed(store, key);
  return { hit: true, bytes: object.size };
}

/** Records the hit beside the cache (see BUILD_CACHE_USE_SUFFIX), for least-recently-used eviction. */
async function markCacheUsed(store: ObjectStore, key: string): Promise<void> {
  try {
    await store.put(`${key}${BUILD_CACHE_USE_SUFFIX}`, '');
  } catch {
    // Only the eviction order suffers: the cache then looks as old as its last write.
  }
}

/** Packs `dir` (streamed, never whole in memory) and stores it at `key`; skipped when empty or over `maxBytes`. */
export async function saveCache(
  store: ObjectStore,
  key: string,
  dir: string,
  maxBytes: number,
): Promise<{ saved: true; bytes: number } | { saved: false; reason: string }> {
  const size = await folderSize(dir);
  if (size === 0) return { saved: false, reason: 'nothing to cache' };
  if (size > maxBytes) return { saved: false, reason: `cache folder is larger than ${Math.round(maxBytes / 1024 ** 2)} MB` };
  const entries = await readdir(dir);
  // The stores hold tarballs that are compressed already: the fastest gzip level is nearly as small.
  // Symbolic links are left out: pnpm's store links back to the projects that used it, paths
  // that mean nothing in the next build (and that extraction would rightly refuse).
  const archive = tar.c(
    { cwd: dir, gzip: { level: 1 }, portable: true, filter: (_path, stat) => !('isSymbolicLink' in stat && stat.isSymbolicLink()) },
    entries,
  );
  await store.put(key, Readable.from(archive, { objectMode: false }), { contentType: 'application/gzip' });
  return { saved: true, bytes: size };
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderSize(full);
    else if (entry.isFile()) total += (await lstat(full)).size;
  }
  return total;
}
