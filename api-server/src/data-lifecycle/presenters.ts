import type { Retention, RetentionSettings, StorageUsage } from '@platform/contracts';
import { iso } from '../http/iso.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { StorageUsageRow } from './data-lifecycle-repo.ts';
import { effectiveRetention } from './retention.ts';
import { totalBytes } from './storage-usage.ts';

export function presentRetention(project: ProjectRow, defaults: RetentionSettings): Retention {
  return {
    effective: effectiveRetention(project, defaults),
    project: {
      keepPerBranch: project.retain_per_branch,
      keepRollback: project.retain_rollback,
      failedAfterDays: project.retain_failed_days,
      buildCacheCapBytes: project.build_cache_cap_bytes === null ? null : Number(project.build_cache_cap_bytes),
    },
    defaults,
  };
}

export function presentUsage(row: StorageUsageRow, quotaBytes: number | null): StorageUsage {
  return {
    deploymentsBytes: Number(row.deployments_bytes),
    buildCacheBytes: Number(row.build_cache_bytes),
    logBytes: Number(row.log_bytes),
    totalBytes: totalBytes(row),
    quotaBytes,
    measuredAt: iso(row.measured_at)!,
  };
}
