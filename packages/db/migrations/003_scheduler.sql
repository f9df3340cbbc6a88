-- Scheduler and reconciler state (issue 5).
-- Launches tried so far; a throttled or capacity-starved launch is retried with backoff.
ALTER TABLE deployments ADD COLUMN launch_attempts integer NOT NULL DEFAULT 0;
-- Not launched before this time (backoff after a failed launch); NULL: as soon as a slot is free.
ALTER TABLE deployments ADD COLUMN next_launch_at timestamptz;
-- Why the last launch attempt failed.
ALTER TABLE deployments ADD COLUMN launch_error text;
-- Set when the platform itself ended the deployment (cancel, timeout, a task that died): the
-- system log line and status event still to append to its build-event stream. They are
-- appended once its task has stopped, so their seq follows every event the build sent.
ALTER TABLE deployments ADD COLUMN pending_notice text;
CREATE INDEX deployments_queue_idx ON deployments (created_at, id) WHERE status = 'QUEUED' AND launched_at IS NULL;
CREATE INDEX deployments_pending_notice_idx ON deployments (id) WHERE pending_notice IS NOT NULL;
CREATE INDEX deployments_finished_idx ON deployments (finished_at, id) WHERE finished_at IS NOT NULL
