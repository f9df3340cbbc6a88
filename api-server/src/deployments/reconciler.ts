import type { Logger } from '@platform/logger';
import type { Runner, RunnerTaskState } from '@platform/runner';
import { PeriodicWorker } from '../workers/periodic-worker.ts';
import type { DeploymentLifecycle } from './deployment-lifecycle.ts';
import type { DeploymentsRepo } from './deployments-repo.ts';
import type { EventHistory } from './event-history.ts';

export interface ReconcilerOptions {
  /** How often every unfinished deployment is checked against its task. Default 5 s. */
  intervalMs?: number;
  /**
   * How long a task must have been gone before its deployment is declared dead: its last
   * events may still be on their way through the bus. Default 5 s.
   */
  settleMs?: number;
  /** A claimed deployment with no task after this long was never launched (the launcher died). Default 60 s. */
  launchStaleMs?: number;
  /** Build timeout; a build running longer is stopped and ends ERROR. Default 15 minutes. */
  buildTimeoutMs?: number;
  /** Time past the timeout before the reconciler steps in (the runner's own kill comes first). Default 30 s. */
  timeoutGraceMs?: number;
}

export interface ReconcilerDeps {
  deployments: DeploymentsRepo;
  runner: Runner;
  history: EventHistory;
  lifecycle: Pick<DeploymentLifecycle, 'finish' | 'stopAndFail' | 'appendNoticeOrRetryLater'>;
  logger: Logger;
}

/**
 * Makes the metadata DB tell the truth about builds. At start and then periodically it
 * checks every launched, unfinished deployment against its runner task: a task that ended
 * without a terminal event, or that nobody can hear any more (orphaned by a restart), or
 * that ran past its timeout, ends the deployment in ERROR with the reason (through the
 * lifecycle), and appends the notice of every deployment the platform ended once its task
 * has stopped.
 */
export class Reconciler {
  private readonly worker: PeriodicWorker;
  /** When a deployment's task was first seen gone (for tasks whose runner does not know when they stopped). */
  private readonly goneSince = new Map<string, number>();
  private readonly settleMs: number;
  private readonly launchStaleMs: number;
  private readonly buildTimeoutMs: number;
  private readonly timeoutGraceMs: number;

  constructor(
    private readonly deps: ReconcilerDeps,
    options: ReconcilerOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 5_000;
    this.launchStaleMs = options.launchStaleMs ?? 60_000;
    this.buildTimeoutMs = options.buildTimeoutMs ?? 15 * 60_000;
    this.timeoutGraceMs = options.timeoutGraceMs ?? 30_000;
    this.worker = new PeriodicWorker({
      intervalMs: options.intervalMs ?? 5_000,
      pass: async () => {
        await this.reconcileUnfinished();
        await this.appendPendingNotices();
        await this.sweepScratch();
      },
      logger: deps.logger,
      failureMessage: 'reconciler pass failed',
    });
    // A task that ends is settled right away (after the settle time), not at the next tick.
    deps.runner.onTaskEnded?.(() => {
      this.kick();
      this.worker.kickIn(this.settleMs + 50);
    });
  }

  /** Runs one pass now (the start-up pass), then one every interval. */
  async start(): Promise<void> {
    await this.worker.runPass();
    this.worker.start({ runNow: false });
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  /** Asks for a pass; one running already is followed by one more. */
  kick(): void {
    this.worker.kick();
  }

  /** One full pass; resolves when done. Concurrent callers share the pass in progress. */
  runPass(): Promise<void> {
    return this.worker.runPass();
  }

  private async reconcileUnfinished(): Promise<void> {
    const now = Date.now();
    const seen = new Set<string>();
    for (const d of await this.deps.deployments.listUnfinished()) {
      if (!d.launched_at) continue; // waiting in the queue: the scheduler's concern
      seen.add(d.id);
      if (!d.task_id) {
        if (now - d.launched_at.getTime() > this.launchStaleMs) {
          this.deps.logger.warn({ deploymentId: d.id }, 'launch never completed; queued again');
          await this.deps.deployments.requeue(d.id);
        }
        continue;
      }
      let state: RunnerTaskState;
      try {
        state = await this.deps.runner.describe(d.task_id);
      } catch (err) {
        this.deps.logger.warn({ err, deploymentId: d.id }, 'could not describe the build task; will retry');
        continue;
      }
      if (state.state === 'running') {
        this.goneSince.delete(d.id);
        if (state.orphaned) {
          await this.deps.lifecycle.stopAndFail(
            d,
            'the build was interrupted: the platform restarted while it ran and could no longer receive its output, so it was stopped',
          );
        } else if (now - d.launched_at.getTime() > this.buildTimeoutMs + this.timeoutGraceMs) {
          await this.deps.lifecycle.stopAndFail(d, `the build exceeded its timeout of ${formatDuration(this.buildTimeoutMs)} and was stopped`);
        }
        continue;
      }
      // Stopped or unknown: give its last events time to arrive before declaring it dead.
      if (this.goneFor(d.id, state, now) < this.settleMs) continue;
      if ((await this.deps.history.summary(d.id)).terminal) continue; // the consumer is applying it
      await this.deps.lifecycle.finish(d, 'ERROR', endedWithoutResult(state));
    }
    for (const id of this.goneSince.keys()) if (!seen.has(id) && !id.startsWith('notice:')) this.goneSince.delete(id);
  }

  /** Removes what builds that no longer run left on disk (after a hard kill of the platform, say). */
  private async sweepScratch(): Promise<void> {
    const removed = (await this.deps.runner.sweepScratch?.((ids) => this.deps.deployments.finishedAmong(ids))) ?? [];
    if (removed.length > 0) this.deps.logger.info({ deployments: removed }, 'removed the scratch folders of builds that no longer run');
  }

  /** How long the task has been gone: from its stop time, else from when this reconciler first saw it gone. */
  private goneFor(deploymentId: string, state: RunnerTaskState, now: number): number {
    const since = state.stoppedAt ?? this.goneSince.get(deploymentId) ?? now;
    if (!this.goneSince.has(deploymentId)) this.goneSince.set(deploymentId, since);
    return now - since;
  }

  /** Appends each pending notice once its deployment's task has stopped. */
  private async appendPendingNotices(): Promise<void> {
    const now = Date.now();
    for (const row of await this.deps.deployments.listPendingNotices()) {
      if (row.task_id) {
        const state = await this.deps.runner.describe(row.task_id).catch(() => undefined);
        if (!state) continue;
        if (state.state === 'running') {
          // Stopping takes a moment (ECS: up to its stop timeout); ask again after a while.
          const since = row.finished_at ? now - row.finished_at.getTime() : 0;
          if (state.orphaned || since > 60_000) await this.deps.runner.stop(row.task_id, row.pending_notice ?? 'ended').catch(() => {});
          continue;
        }
        const settle = Math.min(this.settleMs, 1_000);
        if (this.goneFor(`notice:${row.id}`, state, now) < settle) {
          this.worker.kickIn(settle);
          continue;
        }
        this.goneSince.delete(`notice:${row.id}`);
      } else if (row.launched_at && now - row.launched_at.getTime() < this.launchStaleMs) {
        continue; // a launch may still be in flight; its task will be stopped when it records itself
      }
      await this.deps.lifecycle.appendNoticeOrRetryLater(row);
    }
  }
}

function endedWithoutResult(state: RunnerTaskState): string {
  if (state.state === 'unknown') return 'the build ended without reporting a result: its task is gone (the platform restarted, or the task was removed)';
  const parts = [state.reason, state.exitCode !== undefined && !state.reason?.includes(`${state.exitCode}`) ? `exit code ${state.exitCode}` : undefined];
  return `the build ended without reporting a result: ${parts.filter(Boolean).join(', ') || 'its task stopped'}`;
}

function formatDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
