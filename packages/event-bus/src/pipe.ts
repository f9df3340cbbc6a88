import { createInterface } from 'node:readline';
import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { BusMessage, EventBus } from './event-bus.ts';

/** The build-server writes events to this file descriptor when the local runner started it. */
export const PIPE_FD = 3;

interface PipeFrame extends BusMessage {
  topic: string;
}

/**
 * Publish-only bus for a build process started by the local runner: one NDJSON frame per
 * message on fd 3, which the runner reads and republishes on the real bus. Stdout and stderr
 * stay free for diagnostics.
 */
export function createPipeEventBus(options: { fd?: number; stream?: Writable } = {}): EventBus {
  const out = options.stream ?? createWriteStream('', { fd: options.fd ?? PIPE_FD });
  return {
    async publish(topic, messages) {
      if (messages.length === 0) return;
      const text = `${messages.map((m) => JSON.stringify({ topic, key: m.key, value: m.value } satisfies PipeFrame)).join('\n')}\n`;
      await new Promise<void>((resolve, reject) => {
        const flushed = out.write(text, (err) => (err ? reject(err) : undefined));
        if (flushed) resolve();
        else out.once('drain', resolve);
      });
    },
    async subscribe() {
      throw new Error('the pipe event bus is publish-only');
    },
    async close() {
      await new Promise<void>((resolve) => out.end(resolve));
    },
  };
}

/** The runner's side of the pipe: yields every frame in order. Malformed lines are reported, not thrown. */
export async function* readPipeMessages(stream: Readable, onMalformed: (line: string) => void = () => {}): AsyncGenerator<PipeFrame> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    try {
      const frame = JSON.parse(line) as PipeFrame;
      if (typeof frame.topic === 'string' && typeof frame.key === 'string' && typeof frame.value === 'string') {
        yield frame;
        continue;
      }
    } catch {
      /* fall through */
    }
    onMalformed(line);
  }
}

/**
 * The runner's side of the pipe, in batches: every frame that arrived while the caller was
 * busy (publishing the previous batch) comes in the next one, in order, up to `maxBatch`.
 * One Kafka publish per line costs a broker round trip each (about 260 lines/s here);
 * batches keep a chatty build from falling behind. Reading pauses while too much waits.
 */
export async function* readPipeBatches(
  stream: Readable,
  options: { maxBatch?: number; onMalformed?: (line: string) => void } = {},
): AsyncGenerator<PipeFrame[]> {
  const max = Math.max(1, options.maxBatch ?? 500);
  const queue: PipeFrame[] = [];
  let ended = false;
  let failure: unknown;
  let paused = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line) return;
    const frame = parseFrame(line);
    if (frame) queue.push(frame);
    else options.onMalformed?.(line);
    if (!paused && queue.length >= max * 4) {
      paused = true;
      lines.pause();
    }
    notify();
  });
  lines.on('close', () => {
    ended = true;
    notify();
  });
  stream.on('error', (err) => {
    failure = err;
    ended = true;
    notify();
  });
  for (;;) {
    if (queue.length > 0) {
      const batch = queue.splice(0, max);
      if (paused && queue.length < max) {
        paused = false;
        lines.resume();
      }
      yield batch;
      continue;
    }
    if (failure) throw failure;
    if (ended) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

function parseFrame(line: string): PipeFrame | undefined {
  try {
    const frame = JSON.parse(line) as PipeFrame;
    if (typeof frame.topic === 'string' && typeof frame.key === 'string' && typeof frame.value === 'string') return frame;
  } catch {
    /* malformed */
  }
  return undefined;
}

/** Publishes frames in their order, one publish per run of frames on the same topic. */
export async function publishFrames(bus: EventBus, frames: readonly PipeFrame[]): Promise<void> {
  for (let i = 0; i < frames.length; ) {
    const topic = frames[i]!.topic;
    let j = i;
    while (j < frames.length && frames[j]!.topic === topic) j++;
    await bus.publish(
      topic,
      frames.slice(i, j).map((f) => ({ key: f.key, value: f.value })),
    );
    i = j;
  }
}
