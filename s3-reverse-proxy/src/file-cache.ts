interface Entry {
  buffer: Buffer;
  /** Set on every hit, cleared when the eviction hand passes: a second chance for hot files. */
  referenced: boolean;
}

/**
 * Hot deployment files in memory, bounded by total bytes. Deployment files are immutable,
 * so entries never go stale and nothing is invalidated. Eviction is CLOCK (second chance):
 * a hit only sets a flag, so the hot path does no map reordering; the eviction hand moves
 * referenced entries to the back and drops the first unreferenced one.
 */
export class FileCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(readonly options: { maxBytes: number; maxFileBytes: number }) {}

  /** Whether a file of this size is kept in memory at all (larger ones are streamed). */
  accepts(size: number): boolean {
    return size <= this.options.maxFileBytes && size <= this.options.maxBytes;
  }

  get(key: string): Buffer | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    entry.referenced = true;
    this.hits++;
    return entry.buffer;
  }

  set(key: string, buffer: Buffer): void {
    if (!this.accepts(buffer.length) || this.entries.has(key)) return;
    while (this.bytes + buffer.length > this.options.maxBytes) this.evictOne();
    this.entries.set(key, { buffer, referenced: false });
    this.bytes += buffer.length;
  }

  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }

  private evictOne(): void {
    for (;;) {
      const first = this.entries.entries().next();
      if (first.done) return;
      const [key, entry] = first.value;
      this.entries.delete(key);
      if (entry.referenced) {
        entry.referenced = false;
        this.entries.set(key, entry);
        continue;
      }
      this.bytes -= entry.buffer.length;
      return;
    }
  }
}
