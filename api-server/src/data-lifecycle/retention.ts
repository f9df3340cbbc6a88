import type { RetentionSettings } from '@platform/contracts';
import type { ProjectRow } from '../projects/projects-repo.ts';

/** The platform's retention defaults, and the quota every project gets (null: none). */
export interface DataLifecycleSettings {
  defaults: RetentionSettings;
  storageQuotaBytes: number | null;
}

/** What applies to a project: its own settings where it has them, the defaults elsewhere. */
export function effectiveRetention(project: ProjectRow, defaults: RetentionSettings): RetentionSettings {
  return {
    keepPerBranch: project.retain_per_branch ?? defaults.keepPerBranch,
    keepRollback: project.retain_rollback ?? defaults.keepRollback,
    failedAfterDays: project.retain_failed_days ?? defaults.failedAfterDays,
    buildCacheCapBytes: project.build_cache_cap_bytes === null ? defaults.buildCacheCapBytes : Number(project.build_cache_cap_bytes),
  };
}
