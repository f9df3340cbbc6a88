-- Projects: one git repository deployed under one subdomain slug.
CREATE TABLE projects (
  id text PRIMARY KEY,
  name text NOT NULL,
  slug text NOT NULL UNIQUE,
  git_url text NOT NULL,
  production_branch text NOT NULL DEFAULT 'main',
  root_directory text,
  install_command text,
  build_command text,
  output_directory text,
  spa boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Deployments: one build of one commit; status moves QUEUED -> BUILDING -> READY | ERROR | CANCELED.
CREATE TABLE deployments (
  id text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('QUEUED', 'BUILDING', 'READY', 'ERROR', 'CANCELED')),
  target text NOT NULL CHECK (target IN ('production', 'preview')),
  ref text,
  commit_sha text,
  error_message text,
  -- false: build without restoring the dependency cache (redeploy without cache).
  use_build_cache boolean NOT NULL DEFAULT true,
  -- Highest build-event seq applied to this row; status events older than it are ignored.
  last_event_seq integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

CREATE INDEX deployments_project_created_idx ON deployments (project_id, created_at DESC);
CREATE INDEX deployments_status_idx ON deployments (status) WHERE status IN ('QUEUED', 'BUILDING');

-- Which runner task builds the deployment (pid, container id, ECS task ARN), set at launch.
ALTER TABLE deployments ADD COLUMN task_id text;
ALTER TABLE deployments ADD COLUMN launched_at timestamptz;
