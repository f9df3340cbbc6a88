import { BUILD_CACHE_USE_SUFFIX, buildCachePrefix } from '@platform/contracts';
import type { ObjectInfo, ObjectStore } from '@platform/object-store';

export interface EvictionResult {
  evicted: string[];
  keptBytes: number;
}

/**
 * Keeps a project's build caches under `capBytes`, evicting the least recently used first
 * (a cache's last use is the later of its write and its `.used` marker, rewritten on each
 * hit). A cache written less than `freshMs` ago is never evicted: a build may have just
 * saved it for the next one.
 */
export async function evictBuildCaches(store: ObjectStore, projectId: string, capBytes: number, now: number, freshMs = 10 * 60_000): Promise<EvictionResult> {
  const objects = await store.listDetailed(buildCachePrefix(projectId));
  const markers = new Map<string, ObjectInfo>();
  const caches: ObjectInfo[] = [];
  for (const o of objects) {
    if (o.key.endsWith(BUILD_CACHE_USE_SUFFIX)) markers.set(o.key.slice(0, -BUILD_CACHE_USE_SUFFIX.length), o);
    else caches.push(o);
  }
  const lastUse = (o: ObjectInfo) => Math.max(o.modifiedMs, markers.get(o.key)?.modifiedMs ?? 0);
  caches.sort((a, b) => lastUse(b) - lastUse(a));
  let keptBytes = 0;
  const evicted: string[] = [];
  for (const cache of caches) {
    if (keptBytes + cache.size <= capBytes || now - cache.modifiedMs < freshMs) keptBytes += cache.size;
    else evicted.push(cache.key);
  }
  // A marker whose cache is gone (evicted now, or by an earlier pass) goes too.
  const orphans = [...markers.keys()].filter((key) => evicted.includes(key) || !caches.some((c) => c.key === key));
  const keys = [...evicted, ...orphans.map((key) => `${key}${BUILD_CACHE_USE_SUFFIX}`)];
  if (keys.length > 0) await store.delete(keys);
  return { evicted, keptBytes };
}
