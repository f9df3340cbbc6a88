import { buildCachePrefix, contentPrefix } from '@platform/contracts';
import type { ProjectDataStore } from '@platform/clickhouse';
import { deploymentFilesBytes, type ObjectStore } from '@platform/object-store';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { DataLifecycleRepo, StorageUsageRow } from './data-lifecycle-repo.ts';

/**
 * Measures what a project holds: its deployments' files, its build caches (the object
 * store) and its build logs (ClickHouse), and records the figures, which the quota check
 * and `/metrics` read without measuring again.
 */
export class StorageMeter {
  constructor(private readonly deps: { repo: DataLifecycleRepo; store: ObjectStore; projectData: ProjectDataStore }) {}

  async measure(project: ProjectRow): Promise<StorageUsageRow | null> {
    const { repo, store, projectData } = this.deps;
    let deploymentsBytes = 0;
    for (const d of await repo.listProjectDeployments(project.id)) deploymentsBytes += await deploymentFilesBytes(store, d.id);
    // Content-addressed files are stored once per project, whichever deployments name them.
    deploymentsBytes += (await store.listDetailed(contentPrefix(project.id))).reduce((sum, o) => sum + o.size, 0);
    const caches = await store.listDetailed(buildCachePrefix(project.id));
    const buildCacheBytes = caches.reduce((sum, o) => sum + o.size, 0);
    const logBytes = await projectData.logBytes(project.id);
    return repo.saveUsage(project.id, { deploymentsBytes, buildCacheBytes, logBytes });
  }
}

export const totalBytes = (row: Pick<StorageUsageRow, 'deployments_bytes' | 'build_cache_bytes' | 'log_bytes'>): number =>
  Number(row.deployments_bytes) + Number(row.build_cache_bytes) + Number(row.log_bytes);

/** Per-project storage quota: the scheduler asks it before launching a build. */
export class StorageQuota {
  constructor(private readonly deps: { meter: StorageMeter; quotaBytes: number | null }) {}

  /**
   * Why a build of this project may not run, or null: the project holds more than its
   * quota. Measured afresh, so deleting deployments lets the next build through at once.
   */
  async refusal(project: ProjectRow): Promise<string | null> {
    const quota = this.deps.quotaBytes;
    if (quota === null) return null;
    const row = await this.deps.meter.measure(project);
    if (!row || totalBytes(row) <= quota) return null;
    return `storage quota exceeded: the project holds ${size(totalBytes(row))} (deployments ${size(Number(row.deployments_bytes))}, build caches ${size(Number(row.build_cache_bytes))}, logs ${size(Number(row.log_bytes))}), more than its ${size(quota)} quota (STORAGE_QUOTA); delete deployments or lower its retention, then deploy again`;
  }
}

function size(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
