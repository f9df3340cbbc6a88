import type { EnvVar } from '@platform/contracts';
import type { EnvVarRow } from './env-vars-repo.ts';

/** Values go in, never out: a variable is shown by its key and target only. */
export const presentEnvVar = (row: EnvVarRow): EnvVar => ({
  id: row.id,
  key: row.key,
  target: row.target,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});
