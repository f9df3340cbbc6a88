import { isTerminalStatus } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import { HighWater } from './replay.ts';

export interface AppliedGateOptions {
  /** Longest a terminal status is held for the writer; then it goes out anyway. Default 15 s. */
  timeoutMs?: number;
  /** While held, how often the deployment row is read in case an applied event was lost. Default 1 s. */
  recheckMs?: number;
}

interface Waiter {
  deploymentId: string;
  seq: number;
  open: () => void;
}

/**
 * Holds a terminal status until the writer has applied it, so a client that sees READY can
 * open the URL at once (the writer publishes the routes before it updates the row, and both
 * after ClickHouse). The live feed and the history in ClickHouse both run ahead of the writer's
 * last step, so a terminal status from either source passes through here.
 *
 * Why an event rather than watching the row: the writer knows the moment it has applied a
 * batch; a poll learns it up to one interval late and costs a query per interval per held
 * stream. Why on the bus rather than in process: the writer group is shared by every replica,
 * so the replica whose socket waits is often not the one whose writer applied the event; the
 * applied topic reaches every replica's live feed the way `build-events` does.
 *
 * The row is still read twice as a safety net, not as the signal: once when the hold starts
 * (the status was applied before this replica heard of it, e.g. history of a finished build)
 * and every `recheckMs` while held (an applied event lost to a publish failure). After
 * `timeoutMs` the status goes out anyway: a writer that is down must not hang the stream.
 */
export class AppliedGate {
  /** The highest seq each deployment's writer has announced as applied. */
  private readonly applied = new HighWater(50_000);
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly deps: { getRow: (deploymentId: string) => Promise<DeploymentRow | null>; logger: Logger },
    private readonly options: AppliedGateOptions = {},
  ) {}

  /** An applied event from any replica's writer. */
  noteApplied(deploymentId: string, upToSeq: number): void {
    if (!this.applied.note(deploymentId, upToSeq)) return;
    for (const w of this.waiters) if (w.deploymentId === deploymentId && w.seq <= upToSeq) w.open();
  }

  isApplied(deploymentId: string, seq: number): boolean {
    return this.applied.get(deploymentId) >= seq;
  }

  /** Resolves once the status event `seq` of the deployment is applied, or the bound has passed. */
  async waitFor(deploymentId: string, seq: number): Promise<void> {
    if (this.isApplied(deploymentId, seq) || (await this.rowApplied(deploymentId, seq))) return;
    if (this.isApplied(deploymentId, seq)) return; // announced while the row was read
    await new Promise<void>((resolve) => {
      const timeoutMs = this.options.timeoutMs ?? 15_000;
      const started = Date.now();
      const waiter: Waiter = { deploymentId, seq, open: () => finish() };
      const recheck = setInterval(
        () => {
          void this.rowApplied(deploymentId, seq).then((yes) => yes && finish());
          if (Date.now() - started < timeoutMs) return;
          this.deps.logger.warn({ deploymentId, seq, timeoutMs }, 'the writer has not applied a terminal status in time; sending it anyway');
          finish();
        },
        Math.min(this.options.recheckMs ?? 1_000, timeoutMs),
      );
      recheck.unref();
      const finish = () => {
        clearInterval(recheck);
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  /** Lets every held status go (shutting down: the sockets are closing anyway). */
  releaseAll(): void {
    for (const w of [...this.waiters]) w.open();
  }

  /** The row has taken this status event (or a later one, or ended another way). */
  private async rowApplied(deploymentId: string, seq: number): Promise<boolean> {
    const row = await this.deps.getRow(deploymentId).catch(() => undefined);
    if (row === undefined) return false;
    return row === null || row.last_event_seq >= seq || isTerminalStatus(row.status);
  }
}
