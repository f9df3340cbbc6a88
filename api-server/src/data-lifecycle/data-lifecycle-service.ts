import type { Retention, StorageUsage, UpdateRetentionBody } from '@platform/contracts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import { ProjectNotFound } from '../projects/errors.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { DataLifecycleRepo } from './data-lifecycle-repo.ts';
import type { DeploymentDeleter } from './deployment-deleter.ts';
import { presentRetention, presentUsage } from './presenters.ts';
import type { DataLifecycleSettings } from './retention.ts';
import type { StorageMeter } from './storage-usage.ts';

/** The data-lifecycle use-cases behind the REST API. */
export class DataLifecycleService {
  constructor(
    private readonly deps: {
      repo: DataLifecycleRepo;
      deleter: DeploymentDeleter;
      meter: StorageMeter;
      settings: DataLifecycleSettings;
    },
  ) {}

  deleteDeployment(deployment: DeploymentRow, project: ProjectRow): Promise<void> {
    return this.deps.deleter.delete(deployment, project);
  }

  retention(project: ProjectRow): Retention {
    return presentRetention(project, this.deps.settings.defaults);
  }

  async updateRetention(project: ProjectRow, body: UpdateRetentionBody): Promise<Retention> {
    const updated = await this.deps.repo.updateRetention(project.id, body);
    if (!updated) throw new ProjectNotFound();
    return presentRetention(updated, this.deps.settings.defaults);
  }

  /** Measured now (the figures are also recorded for `/metrics` and the quota). */
  async usage(project: ProjectRow): Promise<StorageUsage> {
    const row = await this.deps.meter.measure(project);
    if (!row) throw new ProjectNotFound();
    return presentUsage(row, this.deps.settings.storageQuotaBytes);
  }
}
