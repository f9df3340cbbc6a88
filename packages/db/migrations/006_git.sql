-- Git integration (issue 16): the GitHub App, per-project git credentials, pull requests,
-- and the outbox of commit statuses and pull-request comments sent to GitHub.

-- A GitHub App installation an account connected (proved through GitHub's sign-in: the
-- installation is one the GitHub user can reach). `id` is GitHub's installation id.
CREATE TABLE github_installations (
  id bigint NOT NULL,
  owner_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  account_login text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, owner_id)
);

-- A project that builds a repository of an installation: its clones use a token the App
-- mints, and the App's webhook (not a per-repository one) drives it.
CREATE TABLE github_project_links (
  project_id text PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  installation_id bigint NOT NULL,
  repository_id bigint NOT NULL,
  full_name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX github_project_links_repo_idx ON github_project_links (repository_id);

-- Credentials for another git host: an HTTPS token, or an SSH deploy key whose private half
-- the platform generated (AES-256-GCM ciphertext; the public half is shown to paste into the host).
CREATE TABLE git_credentials (
  project_id text PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('https-token', 'ssh-key')),
  secret_enc text NOT NULL,
  public_key text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Pull requests of a project as the webhooks told them; `comment_id` is the one comment the
-- platform keeps up to date on it. A fork's head commit builds only once approved.
CREATE TABLE pull_requests (
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  number integer NOT NULL,
  title text NOT NULL DEFAULT '',
  html_url text,
  branch text NOT NULL,
  head_sha text NOT NULL,
  fork boolean NOT NULL DEFAULT false,
  state text NOT NULL CHECK (state IN ('open', 'closed')),
  -- A fork's head commit waiting for an owner's approval (NULL: nothing waits).
  awaiting_sha text,
  comment_id bigint,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, number)
);

-- What the platform knows of a deployment's git side: its pull request, whether it builds a
-- fork (no env vars), and the last status reported to GitHub.
CREATE TABLE deployment_git (
  deployment_id text PRIMARY KEY REFERENCES deployments(id) ON DELETE CASCADE,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  pr_number integer,
  fork boolean NOT NULL DEFAULT false,
  reported_status text
);
CREATE INDEX deployment_git_pr_idx ON deployment_git (project_id, pr_number) WHERE pr_number IS NOT NULL;

-- Outgoing calls to GitHub, written in a transaction, sent by a worker with backoff (the
-- notifications' outbox pattern). `ordering_key`: rows with one key go out one at a time, in
-- seq order (a commit's status sequence; a pull request's comment, created then edited).
CREATE TABLE github_outbox (
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  deployment_id text NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('status', 'comment')),
  ordering_key text NOT NULL,
  payload text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX github_outbox_due_idx ON github_outbox (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX github_outbox_key_idx ON github_outbox (ordering_key, seq) WHERE status = 'pending';
