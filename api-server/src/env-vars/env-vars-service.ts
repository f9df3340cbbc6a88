import type { EnvTarget } from '@platform/contracts';
import type { EnvVarRow, EnvVarsRepo } from './env-vars-repo.ts';
import { EnvVarExists, EnvVarNotFound } from './errors.ts';

/** A project's build variables: set, list, change, remove, and resolve for a build. */
export class EnvVarsService {
  constructor(private readonly envVars: EnvVarsRepo) {}

  /** One variable per target, all or none. */
  async create(projectId: string, key: string, value: string, targets: readonly EnvTarget[]): Promise<EnvVarRow[]> {
    const rows = await this.envVars.create(projectId, key, value, targets);
    if (!rows) throw new EnvVarExists(key);
    return rows;
  }

  list(projectId: string): Promise<EnvVarRow[]> {
    return this.envVars.list(projectId);
  }

  async updateValue(projectId: string, id: string, value: string): Promise<EnvVarRow> {
    const row = await this.envVars.get(projectId, id);
    const updated = row ? await this.envVars.updateValue(row, value) : null;
    if (!updated) throw new EnvVarNotFound();
    return updated;
  }

  async delete(projectId: string, id: string): Promise<void> {
    if (!(await this.envVars.delete(projectId, id))) throw new EnvVarNotFound();
  }

  /** The decrypted variables a build of this target gets. */
  resolve(projectId: string, target: EnvTarget): Promise<Record<string, string>> {
    return this.envVars.resolve(projectId, target);
  }
}
