import { randomId, type CreateProjectBody, type UpdateProjectBody } from '@platform/contracts';
import type { Db } from '@platform/db';
import { SlugTaken } from './errors.ts';
import { slugCandidates } from './slugs.ts';

export interface ProjectRow {
  id: string;
  name: string;
  slug: string;
  git_url: string;
  production_branch: string;
  root_directory: string | null;
  install_command: string | null;
  build_command: string | null;
  output_directory: string | null;
  spa: boolean;
  node_version: string | null;
  ignore_command: string | null;
  owner_id: string | null;
  github_webhook_secret_enc: string | null;
  created_at: Date;
  /** Set once its deletion was asked for: then no reader here sees it (data-lifecycle/ finishes it). */
  deleting_at: Date | null;
  /** Retention settings; null: the platform default. */
  retain_per_branch: number | null;
  retain_rollback: number | null;
  retain_failed_days: number | null;
  /** bigint: the driver hands it over as text. */
  build_cache_cap_bytes: string | number | null;
}

/** A project being deleted is gone for every reader of this repository. */
const LIVE = 'deleting_at IS NULL';

const COLUMNS: Record<Exclude<keyof UpdateProjectBody, never>, string> = {
  name: 'name',
  gitUrl: 'git_url',
  productionBranch: 'production_branch',
  rootDirectory: 'root_directory',
  installCommand: 'install_command',
  buildCommand: 'build_command',
  outputDirectory: 'output_directory',
  spa: 'spa',
  nodeVersion: 'node_version',
  ignoreCommand: 'ignore_command',
};

export class ProjectsRepo {
  constructor(private readonly db: Db) {}

  /**
   * The slug is the project's subdomain, unique across the platform. A slug asked for
   * explicitly must be free (SlugTaken otherwise); one derived from the name gets a short
   * random suffix when the plain one is taken.
   */
  async create(body: CreateProjectBody, ownerId: string | null = null, extra: { githubWebhookSecretEnc?: (id: string) => string } = {}): Promise<ProjectRow> {
    const { base, candidates } = slugCandidates(body);
    const id = `prj_${randomId(16)}`;
    const secret = extra.githubWebhookSecretEnc?.(id) ?? null;
    for (const slug of candidates) {
      const row = await this.insert(id, slug, body, ownerId, secret);
      if (row) return row;
    }
    throw new SlugTaken(base);
  }

  /** Null when the slug is taken. */
  private async insert(id: string, slug: string, body: CreateProjectBody, ownerId: string | null, githubSecretEnc: string | null): Promise<ProjectRow | null> {
    const rows = await this.db.query<ProjectRow>(
      `INSERT INTO projects (id, name, slug, git_url, production_branch, root_directory, install_command, build_command, output_directory, spa, owner_id, github_webhook_secret_enc, node_version, ignore_command)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (slug) DO NOTHING
       RETURNING *`,
      [
        id,
        body.name,
        slug,
        body.gitUrl,
        body.productionBranch ?? 'main',
        body.rootDirectory ?? null,
        body.installCommand ?? null,
        body.buildCommand ?? null,
        body.outputDirectory ?? null,
        body.spa ?? false,
        ownerId,
        githubSecretEnc,
        body.nodeVersion ?? null,
        body.ignoreCommand ?? null,
      ],
    );
    return rows[0] ?? null;
  }

  async get(id: string): Promise<ProjectRow | null> {
    const rows = await this.db.query<ProjectRow>(`SELECT * FROM projects WHERE id = $1 AND ${LIVE}`, [id]);
    return rows[0] ?? null;
  }

  /** The project when `ownerId` owns it; null otherwise (a stranger cannot tell it exists). */
  async getOwned(id: string, ownerId: string): Promise<ProjectRow | null> {
    const rows = await this.db.query<ProjectRow>(`SELECT * FROM projects WHERE id = $1 AND owner_id = $2 AND ${LIVE}`, [id, ownerId]);
    return rows[0] ?? null;
  }

  async list(): Promise<ProjectRow[]> {
    return this.db.query<ProjectRow>(`SELECT * FROM projects WHERE ${LIVE} ORDER BY created_at DESC, id`);
  }

  async listOwned(ownerId: string): Promise<ProjectRow[]> {
    return this.db.query<ProjectRow>(`SELECT * FROM projects WHERE owner_id = $1 AND ${LIVE} ORDER BY created_at DESC, id`, [ownerId]);
  }

  async getBySlug(slug: string): Promise<ProjectRow | null> {
    const rows = await this.db.query<ProjectRow>(`SELECT * FROM projects WHERE slug = $1 AND ${LIVE}`, [slug]);
    return rows[0] ?? null;
  }

  async update(id: string, patch: UpdateProjectBody): Promise<ProjectRow | null> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [field, column] of Object.entries(COLUMNS) as [keyof UpdateProjectBody, string][]) {
      if (patch[field] === undefined) continue;
      params.push(patch[field]);
      sets.push(`${column} = $${params.length}`);
    }
    if (sets.length === 0) return this.get(id);
    const rows = await this.db.query<ProjectRow>(`UPDATE projects SET ${sets.join(', ')} WHERE id = $1 AND ${LIVE} RETURNING *`, params);
    return rows[0] ?? null;
  }

  async setGithubWebhookSecret(id: string, sealed: string): Promise<void> {
    await this.db.query('UPDATE projects SET github_webhook_secret_enc = $2 WHERE id = $1', [id, sealed]);
  }

  /** Projects building this repository, matched on the URL forms GitHub sends. */
  async findByGitUrls(urls: readonly string[]): Promise<ProjectRow[]> {
    if (urls.length === 0) return [];
    return this.db.query<ProjectRow>(`SELECT * FROM projects WHERE git_url = ANY($1::text[]) AND ${LIVE} ORDER BY created_at, id`, [urls]);
  }

  /**
   * Starts a deletion: from now on the project is gone for every reader here; the
   * data-lifecycle worker removes what it stored, then the row. False when it was gone already.
   */
  async markDeleting(id: string): Promise<boolean> {
    return (await this.db.query(`UPDATE projects SET deleting_at = now() WHERE id = $1 AND ${LIVE} RETURNING id`, [id])).length > 0;
  }
}
