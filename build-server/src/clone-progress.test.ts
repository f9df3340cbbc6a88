import { describe, expect, it } from 'vitest';
import { CloneProgress } from './clone-progress.ts';

describe('CloneProgress', () => {
  it('turns git --progress output into a few log lines per phase, each final line kept', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = new CloneProgress(
      (l) => lines.push(l),
      2_000,
      () => now,
    );
    progress.write('remote: Enumerating objects: 1200, done.\nremote: Counting objects:  50% (600/1200)\rremote: Counting objects: 100% (1200/1200), done.\n');
    progress.write('Receiving objects:   1% (12/1200)\r');
    now = 500;
    progress.write('Receiving objects:  20% (240/1200), 4.00 MiB | 8.00 MiB/s\r');
    now = 2_100;
    // Split mid-line across chunks, as a pipe delivers it.
    progress.write('Receiving objects:  55% (660/12');
    progress.write('00), 26.00 MiB | 9.10 MiB/s\r');
    progress.write('Receiving objects: 100% (1200/1200), 48.10 MiB | 9.50 MiB/s, done.\nResolving deltas: 100% (300/300), done.\n');
    progress.write('remote: a message from the server, not progress\n');
    expect(lines).toEqual([
      'Clone: Enumerating objects: 1200, done.',
      'Clone: Counting objects:  50% (600/1200)',
      'Clone: Counting objects: 100% (1200/1200), done.',
      'Clone: Receiving objects:   1% (12/1200)',
      'Clone: Receiving objects:  55% (660/1200), 26.00 MiB | 9.10 MiB/s',
      'Clone: Receiving objects: 100% (1200/1200), 48.10 MiB | 9.50 MiB/s, done.',
      'Clone: Resolving deltas: 100% (300/300), done.',
    ]);
    expect(progress.last).toBe('Resolving deltas: 100% (300/300), done.');
  });

  it('keeps its buffer bounded when a line never ends', () => {
    const progress = new CloneProgress(() => {});
    for (let i = 0; i < 1000; i++) progress.write('x'.repeat(1000));
    expect((progress as unknown as { buffer: string }).buffer.length).toBeLessThanOrEqual(4096);
  });
});
