import { manifestKey, manifestSchema, routeKey, routeRecordSchema, type RouteRecord } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import { Site } from './site.ts';
import { withTimeout } from './storage-timeout.ts';

interface CachedRoute {
  value: RouteRecord | null;
  /** After this, a request triggers a background refresh and is served from this entry. */
  refreshAt: number;
  /** After this, the entry is not trusted: the request waits for a fresh read. */
  expiresAt: number;
}

/** Deployment ids appear in object keys; route records naming anything else are ignored. */
const DEPLOYMENT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface RouteCacheOptions {
  /** A route record is trusted this long: a promote or rollback is live after at most this. */
  routeTtlMs: number;
  storageTimeoutMs: number;
  maxRoutes?: number;
  maxSites?: number;
  onSiteProblems?: (deploymentId: string, problems: string[]) => void;
}

/**
 * Route records and compiled deployments, read from the object store only: the proxy needs
 * no metadata DB and keeps serving when the api-server is down.
 *
 * Route records change on promote and rollback, so each is trusted for `routeTtlMs`. A host
 * in use is refreshed in the background from half its TTL, so hot hosts never wait on storage,
 * and an entry past its TTL is read again before it is used, so a change is always live within
 * the TTL. Misses are cached too (a flood of unknown hosts costs one read per TTL). When storage
 * fails, the last known record keeps serving. Deployments are immutable: a compiled `Site` is
 * kept until evicted. Concurrent misses share one read.
 */
export class RouteCache {
  private readonly routes = new Map<string, CachedRoute>();
  private readonly sites = new Map<string, Site>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly options: RouteCacheOptions,
  ) {}

  /** The cached record when it may be used right now (null: no such host); undefined: read it with `route`. */
  peekRoute(host: string, now: number): RouteRecord | null | undefined {
    const hit = this.routes.get(host);
    if (hit === undefined || hit.expiresAt <= now) return undefined;
    if (hit.refreshAt <= now) {
      // One background attempt per entry: a failing store is not asked again on every request.
      hit.refreshAt = hit.expiresAt;
      void this.refresh(host).catch(() => {});
    }
    return hit.value;
  }

  async route(host: string): Promise<RouteRecord | null> {
    const hit = this.routes.get(host);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    try {
      return await this.refresh(host);
    } catch (err) {
      if (hit) {
        // Storage is failing: keep serving what this host served, and retry after a TTL.
        this.remember(host, hit.value);
        return hit.value;
      }
      throw err;
    }
  }

  peekSite(deploymentId: string): Site | undefined {
    return this.sites.get(deploymentId);
  }

  /** Null when the deployment has no manifest (deleted, or never completed). */
  site(deploymentId: string): Promise<Site | null> {
    const hit = this.sites.get(deploymentId);
    if (hit) return Promise.resolve(hit);
    return this.once(`site:${deploymentId}`, async () => {
      const raw = await withTimeout(this.store.getBuffer(manifestKey(deploymentId)), this.options.storageTimeoutMs, 'a manifest');
      if (!raw) return null;
      const manifest = manifestSchema.parse(JSON.parse(raw.toString('utf8')));
      const site = new Site(manifest);
      if (site.problems.length > 0) this.options.onSiteProblems?.(deploymentId, site.problems);
      if (this.sites.size >= (this.options.maxSites ?? 200)) this.sites.delete(this.sites.keys().next().value!);
      this.sites.set(deploymentId, site);
      return site;
    });
  }

  private refresh(host: string): Promise<RouteRecord | null> {
    return this.once(`route:${host}`, async () => {
      const raw = await withTimeout(this.store.getBuffer(routeKey(host)), this.options.storageTimeoutMs, 'a route record');
      const value = raw ? parseRoute(raw) : null;
      this.remember(host, value);
      return value;
    });
  }

  private remember(host: string, value: RouteRecord | null): void {
    const now = Date.now();
    const ttl = this.options.routeTtlMs;
    if (!this.routes.has(host) && this.routes.size >= (this.options.maxRoutes ?? 50_000)) {
      this.routes.delete(this.routes.keys().next().value!);
    }
    this.routes.set(host, { value, refreshAt: now + ttl / 2, expiresAt: now + ttl });
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.inflight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const promise = load().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }
}

function parseRoute(raw: Buffer): RouteRecord | null {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = routeRecordSchema.safeParse(json);
  return parsed.success && DEPLOYMENT_ID.test(parsed.data.deploymentId) ? parsed.data : null;
}
