-- Data that has a life (issue 18): deleting deployments and projects in the background,
-- retention per project, storage usage per project.

-- Set when a project's deletion was asked for. Such a project is gone for every reader;
-- the data-lifecycle worker removes its files, caches, routes and logs, then the row
-- (which cascades to deployments, env vars, hooks...). The column is the durable job: a
-- restart finds it and carries on.
ALTER TABLE projects ADD COLUMN deleting_at timestamptz;
CREATE INDEX projects_deleting_idx ON projects (deleting_at) WHERE deleting_at IS NOT NULL;

-- Retention settings; NULL means the platform default (RETENTION_* in the config).
ALTER TABLE projects ADD COLUMN retain_per_branch integer CHECK (retain_per_branch >= 1);
ALTER TABLE projects ADD COLUMN retain_rollback integer CHECK (retain_rollback >= 0);
ALTER TABLE projects ADD COLUMN retain_failed_days integer CHECK (retain_failed_days >= 1);
ALTER TABLE projects ADD COLUMN build_cache_cap_bytes bigint CHECK (build_cache_cap_bytes >= 0);

-- Set when a deployment's deletion began (by the API or by retention). A promote refuses
-- it; the worker finishes a deletion a restart interrupted.
ALTER TABLE deployments ADD COLUMN deleting_at timestamptz;
CREATE INDEX deployments_deleting_idx ON deployments (deleting_at) WHERE deleting_at IS NOT NULL;

-- Bytes a project holds, as last measured by the data-lifecycle worker (or a usage request).
CREATE TABLE project_storage_usage (
  project_id text PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  deployments_bytes bigint NOT NULL DEFAULT 0,
  build_cache_bytes bigint NOT NULL DEFAULT 0,
  log_bytes bigint NOT NULL DEFAULT 0,
  measured_at timestamptz NOT NULL DEFAULT now()
);
