import type { Logger } from '@platform/logger';

export interface PeriodicWorkerOptions {
  /** Time between two passes started by the timer. */
  intervalMs: number;
  /** One pass of the work. It may read `worker.stopped` to end a long pass early. */
  pass: () => Promise<void>;
  logger: Logger;
  /** Logged (with the error) when a pass throws; the next pass runs as usual. */
  failureMessage: string;
}

/**
 * The loop every background worker shares: a pass on a timer, and on demand (`kick`) when
 * there may be new work. Passes never overlap: a kick during a pass makes one more pass run
 * right after it (however many kicks came), so nothing that arrived meanwhile waits for the
 * timer. After `stop` no pass starts, and `stop` resolves once the running one has ended.
 */
export class PeriodicWorker {
  private timer: NodeJS.Timeout | undefined;
  private passing: Promise<void> | undefined;
  private again = false;
  private isStopped = false;

  constructor(private readonly options: PeriodicWorkerOptions) {}

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Starts the timer; with `runNow` (the default) a first pass starts at once. */
  start(options: { runNow?: boolean } = {}): void {
    if (this.isStopped || this.timer) return;
    this.timer = setInterval(() => this.kick(), this.options.intervalMs);
    // A worker never keeps the process alive on its own.
    this.timer.unref();
    if (options.runNow ?? true) this.kick();
  }

  /** Asks for a pass now; one running already is followed by one more. */
  kick(): void {
    if (!this.isStopped) void this.runPass();
  }

  /** Asks for a pass after `ms` (a retry that is due before the next tick). */
  kickIn(ms: number): void {
    if (this.isStopped) return;
    setTimeout(() => this.kick(), ms).unref();
  }

  /** Runs a pass (or joins the running one, which then runs once more); resolves when done. */
  runPass(): Promise<void> {
    this.again = true;
    this.passing ??= this.loop().finally(() => {
      this.passing = undefined;
    });
    return this.passing;
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.passing;
  }

  private async loop(): Promise<void> {
    await null; // never finish synchronously: `runPass` stores this promise first
    while (this.again && !this.isStopped) {
      this.again = false;
      try {
        await this.options.pass();
      } catch (err) {
        this.options.logger.error({ err }, this.options.failureMessage);
      }
    }
  }
}
