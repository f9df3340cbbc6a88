/**
 * Where the CLI writes: results (a URL, a table, JSON) to stdout, everything for a human
 * (progress, notes, errors) to stderr, so `url=$(plat deploy)` captures the URL alone.
 */
export class Output {
  private progressShown = false;

  constructor(
    private readonly streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } },
    readonly color: boolean,
  ) {}

  result(line: string): void {
    this.streams.stdout.write(`${line}\n`);
  }

  json(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  note(line: string): void {
    this.clearProgress();
    this.streams.stderr.write(`${line}\n`);
  }

  error(line: string): void {
    this.clearProgress();
    this.streams.stderr.write(`${this.paint('31', 'Error:')} ${line}\n`);
  }

  paint(code: string, text: string): string {
    return this.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  /**
   * A progress bar on stderr: redrawn in place on a terminal, else a line at every tenth so a
   * log file shows progress without thousands of lines.
   */
  progress(label: string, done: number, total: number): void {
    const fraction = total === 0 ? 1 : done / total;
    if (this.streams.stderr.isTTY) {
      const width = Math.max(10, Math.min(40, (this.streams.stderr.columns ?? 80) - label.length - 20));
      const filled = Math.round(fraction * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      this.streams.stderr.write(`\r${label} ${this.paint('36', bar)} ${done}/${total}`);
      this.progressShown = true;
      if (done === total) this.clearProgress();
      return;
    }
    const step = Math.max(1, Math.ceil(total / 10));
    if (done === total || done % step === 0) this.streams.stderr.write(`${label} ${done}/${total} (${Math.round(fraction * 100)}%)\n`);
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.streams.stderr.write('\n');
    this.progressShown = false;
  }
}
