import type { DbExecutor } from '@platform/db';
import type { Logger } from '@platform/logger';
import type { Urls } from '../urls.ts';
import { PeriodicWorker } from '../workers/periodic-worker.ts';
import type { CommitState, GithubApp } from './github-app.ts';
import type { GithubRepo, OutboxRow, UnreportedRow } from './github-repo.ts';

export interface GithubReporterOptions {
  /** How often the worker looks for new statuses and due calls. Default 1 s. */
  pollIntervalMs?: number;
  /** Delay before the first retry; doubles per attempt, capped at `maxBackoffMs`. Default 5 s. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** After this many failed attempts a call is given up (the deployment is not affected). Default 8. */
  maxAttempts?: number;
  /** Where the dashboard is reached: a failed or running build's status links to its log there. */
  dashboardUrl: string;
  /** The commit status context on GitHub. Default `platform`. */
  context?: string;
}

interface StatusPayload {
  sha: string;
  state: CommitState;
  target_url: string;
  description: string;
  installationId: number;
  repo: string;
}

interface CommentPayload {
  installationId: number;
  repo: string;
  prNumber: number;
  body: string;
}

const STATE: Record<string, CommitState> = { QUEUED: 'pending', BUILDING: 'pending', READY: 'success', ERROR: 'failure', CANCELED: 'error' };
const DESCRIPTION: Record<string, string> = {
  QUEUED: 'Deployment queued',
  BUILDING: 'Building',
  READY: 'Deployment ready',
  ERROR: 'Deployment failed',
  CANCELED: 'Deployment canceled',
};
const COLLECT_BATCH = 100;
const DELIVERY_BATCH = 20;
/** A claimed call is another replica's to retry after this long (it died mid-call). */
const LEASE_MS = 60_000;

/**
 * Tells GitHub what became of every deployment of a linked project: a commit status
 * (`pending → success | failure | error`, linking the deployment or its log) and, for a pull
 * request, one comment kept up to date. Through an outbox, as the notifications are: the
 * rows are written in one transaction with the mark that says the status was seen, then sent
 * with exponential backoff; a GitHub that cannot be reached delays the report, never the
 * deployment.
 */
export class GithubReporter {
  private readonly worker: PeriodicWorker;
  private readonly pollIntervalMs: number;

  constructor(
    private readonly deps: { repo: GithubRepo; app: GithubApp; urls: Urls; logger: Logger },
    private readonly options: GithubReporterOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.worker = new PeriodicWorker({
      intervalMs: this.pollIntervalMs,
      pass: async () => {
        await this.collect();
        await this.deliverDue();
      },
      logger: deps.logger,
      failureMessage: 'GitHub report pass failed',
    });
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  kick(): void {
    this.worker.kick();
  }

  runPass(): Promise<void> {
    return this.worker.runPass();
  }

  private async collect(): Promise<void> {
    for (;;) {
      const count = await this.deps.repo.collectUnreported(COLLECT_BATCH, async (rows, tx) => {
        for (const row of rows) await this.enqueueReport(row, tx);
      });
      if (count < COLLECT_BATCH) return;
    }
  }

  private async enqueueReport(row: UnreportedRow, tx: DbExecutor): Promise<void> {
    const state = STATE[row.status];
    if (!state || !row.commit_sha) return;
    const deploymentUrl = this.deps.urls.url(this.deps.urls.deploymentHost(row.slug, row.id));
    const logUrl = `${this.options.dashboardUrl.replace(/\/$/, '')}/dashboard/deployments/${row.id}`;
    const base = { installationId: Number(row.installation_id), repo: row.full_name };
    const status: StatusPayload = {
      ...base,
      sha: row.commit_sha,
      state,
      target_url: state === 'success' ? deploymentUrl : logUrl,
      description: (row.status === 'ERROR' && row.error_message ? `Failed: ${row.error_message}` : DESCRIPTION[row.status]!).slice(0, 140),
    };
    const common = { project_id: row.project_id, deployment_id: row.id };
    await this.deps.repo.enqueue(tx, { ...common, kind: 'status', ordering_key: `status:${row.id}`, payload: JSON.stringify(status) });
    if (row.pr_number === null) return;
    const body = commentBody({
      status: row.status,
      sha: row.commit_sha,
      deploymentUrl,
      logUrl,
      alias: this.deps.urls.url(this.deps.urls.pullRequestHost(row.slug, row.pr_number)),
    });
    const comment: CommentPayload = { ...base, prNumber: row.pr_number, body };
    await this.deps.repo.enqueue(tx, {
      ...common,
      kind: 'comment',
      ordering_key: `comment:${row.project_id}:${row.pr_number}`,
      payload: JSON.stringify(comment),
    });
  }

  private async deliverDue(): Promise<void> {
    while (!this.worker.stopped) {
      const due = await this.deps.repo.claimDue(DELIVERY_BATCH, LEASE_MS);
      if (due.length === 0) return;
      await Promise.allSettled(due.map((row) => this.deliver(row)));
    }
  }

  private async deliver(row: OutboxRow): Promise<void> {
    try {
      if (row.kind === 'status') await this.sendStatus(JSON.parse(row.payload) as StatusPayload);
      else await this.sendComment(row.project_id, JSON.parse(row.payload) as CommentPayload);
      await this.deps.repo.delivered(row.id);
    } catch (err) {
      const attempts = row.attempts + 1;
      const error = (err as Error).message.slice(0, 500);
      const retryInMs = Math.min((this.options.baseBackoffMs ?? 5_000) * 2 ** (attempts - 1), this.options.maxBackoffMs ?? 3_600_000);
      const giveUp = attempts >= (this.options.maxAttempts ?? 8);
      await this.deps.repo.retryLater(row.id, retryInMs, error, giveUp);
      this.deps.logger.warn({ outboxId: row.id, kind: row.kind, deploymentId: row.deployment_id, attempts, error, giveUp }, 'GitHub report failed');
      if (!giveUp && retryInMs < this.pollIntervalMs) this.worker.kickIn(retryInMs + 5);
    }
  }

  private async sendStatus(p: StatusPayload): Promise<void> {
    await this.deps.app.createStatus(p.installationId, p.repo, p.sha, {
      state: p.state,
      target_url: p.target_url,
      description: p.description,
      context: this.options.context ?? 'platform',
    });
  }

  /** One comment per pull request: created once, then edited in place. */
  private async sendComment(projectId: string, p: CommentPayload): Promise<void> {
    const pr = await this.deps.repo.getPullRequest(projectId, p.prNumber);
    if (pr?.comment_id) {
      await this.deps.app.updateComment(p.installationId, p.repo, Number(pr.comment_id), p.body);
      return;
    }
    const id = await this.deps.app.createComment(p.installationId, p.repo, p.prNumber, p.body);
    await this.deps.repo.setCommentId(projectId, p.prNumber, id);
  }
}

function commentBody(c: { status: string; sha: string; deploymentUrl: string; logUrl: string; alias: string }): string {
  const state = { QUEUED: '⏳ Queued', BUILDING: '🔨 Building', READY: '✅ Ready', ERROR: '❌ Failed', CANCELED: '🚫 Canceled' }[c.status] ?? c.status;
  const preview = c.status === 'READY' ? `[${c.alias}](${c.alias})` : '—';
  return [
    '**Preview deployment**',
    '',
    '| Status | Preview | Commit | Log |',
    '|---|---|---|---|',
    `| ${state} | ${preview} | \`${c.sha.slice(0, 7)}\` | [build log](${c.logUrl}) |`,
    '',
    `This deployment: ${c.status === 'READY' ? c.deploymentUrl : 'not ready yet'}`,
  ].join('\n');
}
