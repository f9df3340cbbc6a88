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
      const text = messages.map((m) => JSON.stringify({ topic, key: m.key, value: m.value } satisfies PipeFrame)).join('\n') + '\n';
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
export async function* readPipeMessages(
  stream: Readable,
  onMalformed: (line: string) => void = () => {},
): AsyncGenerator<PipeFrame> {
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
