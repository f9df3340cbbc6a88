-- Accounts: a user signs in with an email and a password (scrypt hash, never the password).
CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- API tokens for scripts and CI: only a SHA-256 of the token is kept; it is shown once.
CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  -- The first characters of the token, so a user can tell tokens apart in a list.
  token_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);

-- Every project has one owner; every API route checks it. Projects made before accounts
-- existed have none and are visible to nobody until claimed.
ALTER TABLE projects ADD COLUMN owner_id text REFERENCES users(id) ON DELETE CASCADE;

CREATE INDEX projects_owner_idx ON projects (owner_id, created_at DESC);

-- Secret of the project's GitHub webhook (AES-256-GCM ciphertext: it is needed in clear to check signatures).
ALTER TABLE projects ADD COLUMN github_webhook_secret_enc text;

-- Build environment variables, encrypted at rest; the API never returns a value after creation.
CREATE TABLE env_vars (
  id text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  key text NOT NULL,
  target text NOT NULL CHECK (target IN ('production', 'preview')),
  value_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, key, target)
);

-- GitHub webhook deliveries, kept for inspection and redelivery; one per (project, X-GitHub-Delivery).
CREATE TABLE github_deliveries (
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  delivery_id text NOT NULL,
  event text NOT NULL,
  payload text NOT NULL,
  -- What the platform did with it: deployed, ignored (with why), pong.
  outcome text NOT NULL,
  detail text,
  deployment_id text REFERENCES deployments(id) ON DELETE SET NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, delivery_id)
);

CREATE INDEX github_deliveries_recent_idx ON github_deliveries (project_id, received_at DESC);

-- Deploy hooks: a secret URL that deploys one branch. Only a SHA-256 of the secret is kept.
CREATE TABLE deploy_hooks (
  id text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name text NOT NULL,
  branch text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Outgoing notification endpoints: signed POSTs on deployment events.
CREATE TABLE notification_endpoints (
  id text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  url text NOT NULL,
  -- Which events it receives, e.g. {deployment.succeeded}; all of them when empty.
  events text[] NOT NULL DEFAULT '{}',
  secret_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The notification outbox: written in the request path, delivered by a worker with retries.
CREATE TABLE notification_deliveries (
  id text PRIMARY KEY,
  -- Creation order, so one endpoint receives a deployment's events in the order they happened.
  seq bigint GENERATED ALWAYS AS IDENTITY,
  endpoint_id text NOT NULL REFERENCES notification_endpoints(id) ON DELETE CASCADE,
  event text NOT NULL,
  payload text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  response_status integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);

CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX notification_deliveries_endpoint_idx ON notification_deliveries (endpoint_id, created_at DESC);

-- The last deployment status turned into notifications (NULL: not even deployment.created yet).
-- The notifier picks up new deployments and unnotified terminal statuses from here, so every
-- path that creates or ends a deployment notifies without knowing about notifications.
ALTER TABLE deployments ADD COLUMN notified_status text;

UPDATE deployments SET notified_status = status;

CREATE INDEX deployments_unnotified_idx ON deployments (created_at)
  WHERE notified_status IS NULL OR (status IN ('READY', 'ERROR', 'CANCELED') AND notified_status IS DISTINCT FROM status);

CREATE INDEX deployments_project_ref_idx ON deployments (project_id, ref, created_at DESC);
