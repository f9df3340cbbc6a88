import { randomId, type EnvTarget } from '@platform/contracts';
import type { Db } from '@platform/db';
import type { SecretBox } from '../crypto/secret-box.ts';

export interface EnvVarRow {
  id: string;
  project_id: string;
  key: string;
  target: EnvTarget;
  value_enc: string;
  created_at: Date;
  updated_at: Date;
}

/** The associated data binding a ciphertext to its row: moved elsewhere, it no longer decrypts. */
const context = (projectId: string, key: string, target: EnvTarget) => `env:${projectId}:${key}:${target}`;

/**
 * A project's build variables. Values are sealed with AES-256-GCM before they reach the
 * database and opened only to hand them to a build.
 */
export class EnvVarsRepo {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  /** One row per target, all or none; null when the key already exists for one of the targets. */
  async create(projectId: string, key: string, value: string, targets: readonly EnvTarget[]): Promise<EnvVarRow[] | null> {
    return this.db
      .transaction(async (tx) => {
        const rows: EnvVarRow[] = [];
        for (const target of new Set(targets)) {
          const inserted = await tx.query<EnvVarRow>(
            `INSERT INTO env_vars (id, project_id, key, target, value_enc) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (project_id, key, target) DO NOTHING RETURNING *`,
            [`env_${randomId(16)}`, projectId, key, target, this.box.seal(value, context(projectId, key, target))],
          );
          if (!inserted[0]) throw new DuplicateEnvVar();
          rows.push(inserted[0]);
        }
        return rows;
      })
      .catch((err: unknown) => {
        if (err instanceof DuplicateEnvVar) return null;
        throw err;
      });
  }

  async list(projectId: string): Promise<EnvVarRow[]> {
    return this.db.query<EnvVarRow>('SELECT * FROM env_vars WHERE project_id = $1 ORDER BY key, target', [projectId]);
  }

  async get(projectId: string, id: string): Promise<EnvVarRow | null> {
    return (await this.db.query<EnvVarRow>('SELECT * FROM env_vars WHERE project_id = $1 AND id = $2', [projectId, id]))[0] ?? null;
  }

  async updateValue(row: EnvVarRow, value: string): Promise<EnvVarRow | null> {
    const rows = await this.db.query<EnvVarRow>('UPDATE env_vars SET value_enc = $3, updated_at = now() WHERE project_id = $1 AND id = $2 RETURNING *', [
      row.project_id,
      row.id,
      this.box.seal(value, context(row.project_id, row.key, row.target)),
    ]);
    return rows[0] ?? null;
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM env_vars WHERE project_id = $1 AND id = $2 RETURNING id', [projectId, id])).length > 0;
  }

  /** The decrypted variables a build of this target gets. */
  async resolve(projectId: string, target: EnvTarget): Promise<Record<string, string>> {
    const rows = await this.db.query<EnvVarRow>('SELECT * FROM env_vars WHERE project_id = $1 AND target = $2', [projectId, target]);
    const env: Record<string, string> = {};
    for (const row of rows) {
      try {
        env[row.key] = this.box.open(row.value_enc, context(projectId, row.key, row.target));
      } catch {
        throw new Error(`env var ${row.key} (${row.target}) cannot be decrypted: was ENV_ENCRYPTION_KEY changed?`);
      }
    }
    return env;
  }
}

class DuplicateEnvVar extends Error {}
