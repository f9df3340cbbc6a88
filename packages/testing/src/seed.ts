/**
 * Bulk data for scale benchmarks, written with one statement per table (generate_series), so
 * 100,000 deployments take seconds, not the minutes one request each would.
 */
import type { Db } from '@platform/db';

export interface ScaleSeed {
  /** The account the measured requests sign in as; its projects come first. */
  ownerId: string;
  /** Other accounts, each with `projectsPerOwner` projects. */
  otherOwners: number;
  projectsPerOwner: number;
  deploymentsPerProject: number;
  /** Deployments of the owner's first project, the one whose list is paged. */
  deploymentsOfFirstProject: number;
}

/** Seeds accounts, projects and READY deployments; returns the owner's first project id. */
export async function seedScale(db: Db, seed: ScaleSeed): Promise<{ projectId: string; projects: number; deployments: number }> {
  const run = `s${Date.now().toString(36)}`;
  await db.query(
    `INSERT INTO users (id, email, password_hash)
     SELECT $1 || '_u' || g, $1 || '-' || g || '@bench.test', 'x' FROM generate_series(1, $2::int) g`,
    [run, seed.otherOwners],
  );
  // Owner 0 is the measured account; owners 1..n the seeded ones.
  await db.query(
    `INSERT INTO projects (id, name, slug, git_url, owner_id, created_at)
     SELECT $1 || '_p' || o || '_' || p, 'project ' || o || '-' || p, $1 || '-' || o || '-' || p,
            'https://example.test/' || o || '/' || p || '.git',
            CASE WHEN o = 0 THEN $2 ELSE $1 || '_u' || o END,
            now() - (p * interval '1 minute')
     FROM generate_series(0, $3::int) o, generate_series(1, $4::int) p`,
    [run, seed.ownerId, seed.otherOwners, seed.projectsPerOwner],
  );
  await db.query(
    `INSERT INTO deployments (id, project_id, status, target, ref, commit_sha, created_at, started_at, finished_at, launched_at, last_event_seq)
     SELECT pr.id || '_d' || d, pr.id, 'READY', CASE WHEN d = 1 THEN 'production' ELSE 'preview' END, 'main',
            md5(pr.id || d), now() - (d * interval '1 hour'), now() - (d * interval '1 hour'),
            now() - (d * interval '1 hour') + interval '20 seconds', now() - (d * interval '1 hour'), 3
     FROM projects pr, generate_series(1, CASE WHEN pr.id = $1 || '_p0_1' THEN $3::int ELSE $2::int END) d
     WHERE pr.id LIKE $1 || '\\_p%'`,
    [run, seed.deploymentsPerProject, seed.deploymentsOfFirstProject],
  );
  await db.query('ANALYZE');
  const projects = (seed.otherOwners + 1) * seed.projectsPerOwner;
  const deployments = (projects - 1) * seed.deploymentsPerProject + seed.deploymentsOfFirstProject;
  return { projectId: `${run}_p0_1`, projects, deployments };
}

/** Queues `count` deployments spread over the given projects, oldest first, each of a branch of its own (none supersedes another). */
export async function seedQueue(db: Db, projectIds: readonly string[], count: number): Promise<void> {
  await db.query(
    `INSERT INTO deployments (id, project_id, status, target, ref, created_at)
     SELECT 'q' || g || '_' || md5(random()::text), ($1::text[])[1 + g % cardinality($1::text[])], 'QUEUED', 'preview', 'branch-' || g,
            now() - ((10000000 - g) * interval '1 millisecond')
     FROM generate_series(1, $2::int) g`,
    [projectIds, count],
  );
}
