import { BUILD_EVENTS_TOPIC, type BuildEvent } from '@platform/contracts';
import { platformEventSigner, type EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { Runner } from '@platform/runner';
import type { DeploymentRow, DeploymentsRepo } from './deployments-repo.ts';
import type { EventHistory } from './event-history.ts';

export interface DeploymentLifecycleDeps {
  deployments: DeploymentsRepo;
  runner: Pick<Runner, 'stop'>;
  bus: Pick<EventBus, 'publish'>;
  history: EventHistory;
  logger: Logger;
  /** Called when the platform ended a deployment (a build slot is free). */
  onFinished?: (row: DeploymentRow) => void;
  /** BUILD_EVENTS_SIGNING_SECRET: the notices are signed with the deployment's key, as its build's events are. */
  eventSigningSecret?: string;
}

/**
 * The one place where the platform itself ends a deployment (cancel, superseded, a launch
 * that failed, a timeout, a task that died): the row first, then a system log line and a
 * status event on the deployment's build-event stream, numbered after the last event the
 * build sent, so the logs say why. The Scheduler and the Reconciler both end deployments
 * through it, and neither knows the other.
 */
export class DeploymentLifecycle {
  private readonly signEvent: <E extends BuildEvent>(event: E) => E;

  constructor(private readonly deps: DeploymentLifecycleDeps) {
    this.signEvent = platformEventSigner(deps.eventSigningSecret);
  }

  /**
   * Ends a deployment that has not ended. The row changes at once; the notice follows when
   * its task is known to have stopped (immediately when there is none: never launched, or
   * `noTask` when its launch failed), so it comes after everything the build itself sent;
   * until then the Reconciler keeps it pending. Returns null when it had already ended.
   */
  async finish(
    deployment: Pick<DeploymentRow, 'id'>,
    status: 'ERROR' | 'CANCELED',
    reason: string,
    options: { noTask?: boolean } = {},
  ): Promise<DeploymentRow | null> {
    const row = await this.deps.deployments.finish(deployment.id, status, reason);
    if (!row) return null;
    this.deps.logger.warn({ deploymentId: row.id, status, reason }, 'deployment ended by the platform');
    if (options.noTask || !row.launched_at) await this.appendNoticeOrRetryLater(row);
    this.deps.onFinished?.(row);
    return row;
  }

  /**
   * Cancels a deployment that has not ended: it ends CANCELED at once, and its task, if any,
   * is stopped (the log line saying so follows when the task has stopped). Returns false
   * when the deployment had already ended (or does not exist).
   */
  async cancel(deploymentId: string, reason: string): Promise<boolean> {
    const finished = await this.finish({ id: deploymentId }, 'CANCELED', reason);
    if (!finished) return false;
    if (finished.task_id) await this.deps.runner.stop(finished.task_id, reason);
    return true;
  }

  /** Ends a running build in ERROR and stops its task; a failed stop is retried by the next reconcile. */
  async stopAndFail(deployment: DeploymentRow, reason: string): Promise<void> {
    const row = await this.finish(deployment, 'ERROR', reason);
    if (!row || !deployment.task_id) return;
    await this.deps.runner.stop(deployment.task_id, reason).catch((err) => {
      this.deps.logger.warn({ err, deploymentId: deployment.id }, 'stopping the task failed; will retry');
    });
  }

  /** Appends the pending notice of an ended deployment to its stream; a failure leaves it pending. */
  async appendNoticeOrRetryLater(row: DeploymentRow): Promise<void> {
    await this.appendNotice(row).catch((err) => this.deps.logger.error({ err, deploymentId: row.id }, 'could not append the notice; will retry'));
  }

  private async appendNotice(row: DeploymentRow): Promise<void> {
    if (!row.pending_notice) return;
    const { maxSeq } = await this.deps.history.summary(row.id);
    const events = noticeEvents(row, Math.max(maxSeq, row.last_event_seq) + 1, Date.now());
    await this.deps.bus.publish(
      BUILD_EVENTS_TOPIC,
      events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(this.signEvent(e)) })),
    );
    await this.deps.deployments.noticeAppended(row.id, events.at(-1)!.seq);
  }
}

/** The notice as the two events that close a stream: a system log line, then the status. */
export function noticeEvents(row: Pick<DeploymentRow, 'id' | 'project_id' | 'status' | 'pending_notice'>, seq: number, ts: number): BuildEvent[] {
  const message = row.pending_notice ?? '';
  const base = { deploymentId: row.id, projectId: row.project_id, ts };
  return [
    { ...base, type: 'log', seq, stream: 'system', message },
    { ...base, type: 'status', seq: seq + 1, status: row.status, detail: message },
  ];
}
