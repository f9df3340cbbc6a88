import { manifestKey, manifestSchema, routeKey, routeRecordSchema, type Manifest, type RouteRecord } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';

interface Cached<T> {
  value: T;
  expires: number;
}

/**
 * Route records change on promote and rollback, so they are cached for a short TTL (misses
 * too, so a flood of unknown hosts costs one read per TTL). Manifests belong to immutable
 * deployments and are cached until evicted. Concurrent misses share one read.
 */
export class RouteCache {
  private readonly routes = new Map<string, Cached<RouteRecord | null>>();
  private readonly manifests = new Map<string, Manifest>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly options: { routeTtlMs: number; maxManifests?: number; maxRoutes?: number },
  ) {}

  async route(host: string): Promise<RouteRecord | null> {
    const now = Date.now();
    const hit = this.routes.get(host);
    if (hit && hit.expires > now) return hit.value;
    return this.once(`route:${host}`, async () => {
      const raw = await this.store.getBuffer(routeKey(host));
      const parsed = raw ? routeRecordSchema.safeParse(safeJson(raw)) : null;
      const value = parsed?.success ? parsed.data : null;
      if (this.routes.size >= (this.options.maxRoutes ?? 10_000)) this.routes.delete(this.routes.keys().next().value!);
      this.routes.set(host, { value, expires: Date.now() + this.options.routeTtlMs });
      return value;
    });
  }

  async manifest(deploymentId: string): Promise<Manifest | null> {
    const hit = this.manifests.get(deploymentId);
    if (hit) {
      // Refresh its place in the insertion order: the Map doubles as an LRU.
      this.manifests.delete(deploymentId);
      this.manifests.set(deploymentId, hit);
      return hit;
    }
    return this.once(`manifest:${deploymentId}`, async () => {
      const raw = await this.store.getBuffer(manifestKey(deploymentId));
      if (!raw) return null;
      const manifest = manifestSchema.parse(safeJson(raw));
      if (this.manifests.size >= (this.options.maxManifests ?? 1_000)) this.manifests.delete(this.manifests.keys().next().value!);
      this.manifests.set(deploymentId, manifest);
      return manifest;
    });
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const promise = load().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }
}

function safeJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
}
