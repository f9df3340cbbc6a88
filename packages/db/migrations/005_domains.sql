-- Custom domains (issue 15). A hostname belongs to one project at a time (the primary key);
-- it is served once its owner proved it in DNS, and over HTTPS once its certificate is issued.
CREATE TABLE domains (
  hostname text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  -- NULL: the production deployment; else the newest ready deployment of this branch.
  branch text,
  -- Every request is redirected to this other domain of the project (www <-> apex).
  redirect_to text,
  hsts boolean NOT NULL DEFAULT false,
  -- pending -> verified -> issuing -> active | failed
  status text NOT NULL DEFAULT 'pending',
  -- Why it is pending or failed: the DNS's or the CA's own words.
  status_reason text,
  -- The value of the TXT record that proves the domain.
  verification_token text NOT NULL,
  cert_not_before timestamptz,
  cert_not_after timestamptz,
  -- When the certificate is renewed: two thirds into its lifetime.
  renew_after timestamptz,
  -- The last renewal's failure, while the current certificate keeps being served.
  renewal_error text,
  -- Failed checks or orders in a row: the backoff grows with it.
  attempts integer NOT NULL DEFAULT 0,
  -- The certificates worker looks at the domain again from this time on.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- The replica working on it, until when: orders are deduplicated across replicas.
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domains_project_idx ON domains (project_id, created_at);
CREATE INDEX domains_due_idx ON domains (next_attempt_at);
