import { setTimeout as sleep } from 'node:timers/promises';
import { BUILD_EVENTS_TOPIC, type BuildEvent, type DeploymentStatus, type LogStream } from '@platform/contracts';
import { signBuildEvent, type EventBus } from '@platform/event-bus';

const MAX_LINE_CHARS = 16_384;
/** Shorter values are too common to be secrets and masking them would garble every line. */
const MIN_MASKED_LENGTH = 4;

export interface LogCaps {
  /** Most stdout/stderr lines one build may log; later lines are counted, not sent. */
  maxLines: number;
  /** Most bytes of stdout/stderr one build may log. */
  maxBytes: number;
}

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
  private commandLines = 0;
  private commandBytes = 0;
  private dropped = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly ids: { deploymentId: string; projectId: string },
    private readonly options: {
      batchSize?: number;
      lingerMs?: number;
      topic?: string;
      caps?: LogCaps;
      /** The task's `eventSigningKey`: every event leaves signed with it (after masking). */
      signingKey?: string;
    } = {},
  ) {}

  /**
   * Values that must never appear in a log line or status detail (build env vars, the git
   * token); replaced by `***`, also in their JSON-escaped and URL-encoded spellings.
   */
  maskValues(values: Iterable<string>): void {
    for (const value of values) {
      // A multi-line value (a PEM key) reaches the log one line at a time: mask each line too.
      const lines = value.includes('\n') ? value.split(/\r?\n/).map((l) => l.trim()) : [];
      for (const v of [value, ...lines]) {
        if (v.length < MIN_MASKED_LENGTH) continue;
        for (const form of new Set([v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)])) {
          if (!this.masks.includes(form)) this.masks.push(form);
        }
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.masks.sort((a, b) => b.length - a.length);
  }

  /** Command output lines not sent because the log cap was reached. */
  get droppedLines(): number {
    return this.dropped;
  }

  get lastSeq(): number {
    return this.seq;
  }

  log(stream: LogStream, message: string): void {
    if (stream !== 'system' && this.options.caps && !this.withinCaps(message)) return;
    // Masked before truncating, so a cut never leaves the start of a secret behind.
    const masked = this.mask(message);
    const text = masked.length > MAX_LINE_CHARS ? `${masked.slice(0, MAX_LINE_CHARS)}… [line truncated]` : masked;
    this.push({ type: 'log', ...this.ids, seq: ++this.seq, ts: Date.now(), stream, message: text });
  }

  private withinCaps(message: string): boolean {
    const caps = this.options.caps!;
    if (this.dropped > 0) {
      this.dropped++;
      return false;
    }
    this.commandLines++;
    this.commandBytes += Buffer.byteLength(message) + 1;
    if (this.commandLines <= caps.maxLines && this.commandBytes <= caps.maxBytes) return true;
    this.dropped = 1;
    this.system(
      `Log limit reached (${caps.maxLines} lines or ${Math.round(caps.maxBytes / 1024)} KB of command output): further output is not shown; the build goes on`,
    );
    return false;
  }

  private mask(text: string): string {
    for (const secret of this.masks) if (text.includes(secret)) text = text.split(secret).join('***');
    return text;
  }

  system(message: string): void {
    this.log('system', message);
  }

  async status(status: DeploymentStatus, extra: { detail?: string; commit?: string; nodeVersion?: string } = {}): Promise<void> {
    const masked = extra.detail !== undefined ? { ...extra, detail: this.mask(extra.detail) } : extra;
    this.push({ type: 'status', ...this.ids, seq: ++this.seq, ts: Date.now(), status, ...masked });
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
    const { signingKey } = this.options;
    this.pending.push(signingKey ? signBuildEvent(event, signingKey) : event);
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
