import { projectSlug, randomId, type CreateProjectBody } from '@platform/contracts';
import type { Db } from '@platform/db';
import { HttpError } from '../errors.ts';

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
  created_at: Date;
}

export class ProjectsRepo {
  constructor(private readonly db: Db) {}

  async create(body: CreateProjectBody): Promise<ProjectRow> {
    const slug = projectSlug(body.name);
    if (!slug) throw new HttpError(400, 'invalid_body', 'invalid request body: name: must contain a letter or digit');
    const rows = await this.db.query<ProjectRow>(
      `INSERT INTO projects (id, name, slug, git_url, production_branch, root_directory, install_command, build_command, output_directory, spa)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (slug) DO NOTHING
       RETURNING *`,
      [
        `prj_${randomId(16)}`,
        body.name,
        slug,
        body.gitUrl,
        body.productionBranch ?? 'main',
        body.rootDirectory ?? null,
        body.installCommand ?? null,
        body.buildCommand ?? null,
        body.outputDirectory ?? null,
        body.spa ?? false,
      ],
    );
    const row = rows[0];
    if (!row) throw new HttpError(409, 'slug_taken', `a project named "${slug}" already exists`);
    return row;
  }

  async get(id: string): Promise<ProjectRow | null> {
    const rows = await this.db.query<ProjectRow>('SELECT * FROM projects WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  async list(): Promise<ProjectRow[]> {
    return this.db.query<ProjectRow>('SELECT * FROM projects ORDER BY created_at DESC, id');
  }

  async getBySlug(slug: string): Promise<ProjectRow | null> {
    const rows = await this.db.query<ProjectRow>('SELECT * FROM projects WHERE slug = $1', [slug]);
    return rows[0] ?? null;
  }
}
