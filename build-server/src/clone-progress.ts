/**
 * git's own progress output (`fetch --progress`, on stderr, redrawn with carriage returns),
 * turned into a few build-log lines: at most one per phase every `intervalMs`, and each phase's
 * final line (`Receiving objects: 100% (1200/1200), 48.10 MiB | 9.50 MiB/s, done.`). The last
 * line seen is kept, so a clone that times out can say how far it got.
 */
const PHASE = /^(?:remote: )?(Enumerating objects|Counting objects|Compressing objects|Receiving objects|Resolving deltas|Updating files)(?::|\b)/;

export class CloneProgress {
  private buffer = '';
  private lastShown = new Map<string, number>();
  /** The newest progress line, for a timeout message. */
  last: string | null = null;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly intervalMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Feeds a chunk of git's stderr. */
  write(chunk: string): void {
    this.buffer += chunk;
    const parts = this.buffer.split(/[\r\n]/);
    this.buffer = parts.pop() ?? '';
    // Bounded: a remote that never ends a line cannot grow this without limit.
    if (this.buffer.length > 4096) this.buffer = this.buffer.slice(-4096);
    for (const part of parts) this.line(part.trim());
  }

  private line(text: string): void {
    const phase = PHASE.exec(text)?.[1];
    if (!phase) return;
    this.last = text.replace(/^remote: /, '');
    const done = /, done\.?$/.test(text);
    const shown = this.lastShown.get(phase);
    if (!done && shown !== undefined && this.now() - shown < this.intervalMs) return;
    this.lastShown.set(phase, this.now());
    this.emit(`Clone: ${this.last}`);
  }
}
