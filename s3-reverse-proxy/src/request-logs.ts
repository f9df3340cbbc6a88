import { REQUEST_LOGS_TOPIC, type CacheStatus } from '@platform/contracts';
import type { BusMessage, EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';

export interface PendingLog {
  seq: number;
  ts: number;
  host: string;
  projectId: string;
  deploymentId: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  durationMs: number;
  cache: CacheStatus;
}

export interface RequestLoggerOptions {
  /** Unique per proxy process: with a sequence number it makes each event's id. */
  instanceId: string;
  /** A batch is published at least this often while requests arrive. Default 1000 ms. */
  flushIntervalMs?: number;
  /** A batch is published as soon as it holds this many events. Default 1000. */
  maxBatch?: number;
  /** While the bus is unavailable, at most this many events wait; the oldest go first beyond it. Default 100,000. */
  maxBuffered?: number;
  logger: Logger;
}

/**
 * Request logs on the `request-logs` topic, batched. Recording is a push onto an array: it
 * never waits on the bus and never fails a request. One publish is in flight at a time; when
 * the bus refuses a batch, the batch waits for the next flush, bounded by `maxBuffered`.
 */
export class RequestLogger {
  private buffer: PendingLog[] = [];
  private seq = 0;
  private publishing: Promise<void> | null = null;
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly bus: EventBus,
    private readonly options: RequestLoggerOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 1_000;
    this.maxBuffered = options.maxBuffered ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1_000);
    this.timer.unref();
  }

  record(
    ts: number,
    host: string,
    projectId: string,
    deploymentId: string,
    method: string,
    path: string,
    status: number,
    bytes: number,
    durationMs: number,
    cache: CacheStatus,
  ): void {
    if (this.buffer.length >= this.maxBuffered) {
      // The bus has been away for long: shed the oldest tenth at once (amortised O(1) per request).
      const shed = Math.max(1, Math.ceil(this.maxBuffered / 10));
      this.buffer.splice(0, shed);
      this.dropped += shed;
    }
    this.buffer.push({ seq: ++this.seq, ts, host, projectId, deploymentId, method, path, status, bytes, durationMs, cache });
    if (this.buffer.length >= this.maxBatch && this.publishing === null) void this.flush();
  }

  /** Publishes what is buffered; resolves when the buffer is empty or the bus refused a batch. */
  flush(): Promise<void> {
    if (this.publishing) return this.publishing;
    if (this.buffer.length === 0) return Promise.resolve();
    this.publishing = this.drain().finally(() => {
      this.publishing = null;
    });
    return this.publishing;
  }

  /** Stops the timer and publishes everything left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    // A flush started before close may have left events recorded meanwhile.
    if (this.buffer.length > 0) await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.maxBatch);
      const messages: BusMessage[] = batch.map((log) => ({ key: log.projectId, value: serializeEvent(log, this.options.instanceId) }));
      try {
        await this.bus.publish(REQUEST_LOGS_TOPIC, messages);
      } catch (err) {
        this.buffer.unshift(...batch);
        if (this.buffer.length > this.maxBuffered) {
          this.dropped += this.buffer.length - this.maxBuffered;
          this.buffer.splice(0, this.buffer.length - this.maxBuffered);
        }
        this.options.logger.warn({ err, waiting: this.buffer.length }, 'publishing request logs failed; will retry');
        break;
      }
    }
    if (this.dropped > 0) {
      this.options.logger.error({ dropped: this.dropped }, 'request logs dropped: the event bus was unavailable too long');
      this.dropped = 0;
    }
  }
}

/** A string JSON.stringify would escape (quotes, backslashes, control characters, surrogates): those take the slow way. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const jsonString = (value: string): string => (NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);

/**
 * The event as JSON, byte for byte what `JSON.stringify` of a `RequestLogEvent` gives (keys in
 * the contract's order), written directly: building an event object per request and
 * stringifying it was the largest share of the proxy's CPU per request in a profile, larger
 * than serving the request; this costs about 40% less. The test holds it to the contract's keys.
 */
export function serializeEvent(log: PendingLog, instanceId: string): string {
  const path = log.path.length > 1024 ? log.path.slice(0, 1024) : log.path;
  const durationMs = Math.round(log.durationMs * 1000) / 1000;
  return (
    `{"id":${jsonString(`${instanceId}-${log.seq}`)},"ts":${log.ts},"host":${jsonString(log.host)},` +
    `"projectId":${jsonString(log.projectId)},"deploymentId":${jsonString(log.deploymentId)},"method":${jsonString(log.method)},` +
    `"path":${jsonString(path)},"status":${log.status},"bytes":${log.bytes},"durationMs":${durationMs},"cache":"${log.cache}"}`
  );
}
