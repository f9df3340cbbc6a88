import { setTimeout as sleep } from 'node:timers/promises';
import { BUILD_EVENTS_TOPIC, type BuildEvent, type DeploymentStatus, type LogStream } from '@platform/contracts';
import type { EventBus } from '@platform/event-bus';

const MAX_LINE_CHARS = 16_384;

/**
 * Numbers the deployment's events (seq 1, 2, 3, ...) and sends them in order, in batches.
 * A failed send is retried with backoff, in order: a broker outage delays lines, never drops
 * them. A status event flushes everything before it, so it always follows its log lines.
 */
export class BuildEventEmitter {
  private seq = 0;
  private pending: BuildEvent[] = [];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private masks: string[] = [];

  constructor(
    private readonly bus: EventBus,
    private readonly ids: { deploymentId: string; projectId: string },
    private readonly options: { batchSize?: number; lingerMs?: number; topic?: string } = {},
  ) {}

  /** Values that must never appear in a log line (secret env vars); replaced by `***`. */
  maskValues(values: Iterable<string>): void {
    for (const v of values) if (v.length >= 6) this.masks.push(v);
    this.masks.sort((a, b) => b.length - a.length);
  }

  get lastSeq(): number {
    return this.seq;
  }

  log(stream: LogStream, message: string): void {
    let text = message.length > MAX_LINE_CHARS ? `${message.slice(0, MAX_LINE_CHARS)}… [line truncated]` : message;
    for (const secret of this.masks) if (text.includes(secret)) text = text.split(secret).join('***');
    this.push({ type: 'log', ...this.ids, seq: ++this.seq, ts: Date.now(), stream, message: text });
  }

  system(message: string): void {
    this.log('system', message);
  }

  async status(status: DeploymentStatus, extra: { detail?: string; commit?: string } = {}): Promise<void> {
    this.push({ type: 'status', ...this.ids, seq: ++this.seq, ts: Date.now(), status, ...extra });
    await this.flush();
  }

  /** Resolves when every event so far has been accepted by the bus. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.sending = this.sending.then(() => this.send(batch));
    return this.sending;
  }

  private push(event: BuildEvent): void {
    this.pending.push(event);
    if (this.pending.length >= (this.options.batchSize ?? 500)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.lingerMs ?? 10);
  }

  private async send(batch: BuildEvent[]): Promise<void> {
    const messages = batch.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) }));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.bus.publish(this.options.topic ?? BUILD_EVENTS_TOPIC, messages);
        return;
      } catch (err) {
        process.stderr.write(`publishing build events failed (attempt ${attempt + 1}): ${String(err)}\n`);
        await sleep(Math.min(10_000, 100 * 2 ** Math.min(attempt, 7)));
      }
    }
  }
}
