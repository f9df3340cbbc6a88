import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox } from './create.ts';

// The disk cap where no disk image can be mounted (here: the `none` sandbox): the work folder's
// usage is measured, and a command past the cap is ended with the reason.

const roots: string[] = [];
afterEach(() => {
  for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function sandbox(diskBytes?: number) {
  const root = mkdtempSync(join(tmpdir(), 'disk-watch-'));
  roots.push(root);
  return createSandbox({ settings: { isolation: 'none', network: 'egress', ...(diskBytes ? { diskBytes } : {}) }, root, name: 'dwtest' });
}

async function run(box: Awaited<ReturnType<typeof sandbox>>, script: string) {
  const started = Date.now();
  const proc = await box.spawn(['sh', '-c', script], { cwd: box.workDir, env: { PATH: '/usr/bin:/bin' } });
  proc.stdout.resume();
  proc.stderr.resume();
  const exit = await proc.exited;
  return { exit, reason: proc.limitReason(), ms: Date.now() - started };
}

describe('measured disk cap', () => {
  it('ends a command that writes past the cap, saying why, and leaves one under it alone', async () => {
    const box = await sandbox(4 * 1024 ** 2);
    expect(box.description).toContain('disk');
    const greedy = await run(box, 'head -c 8000000 /dev/zero > filler; sleep 20');
    expect(greedy.reason).toBe('filled its disk (4 MiB)');
    expect(greedy.ms).toBeLessThan(10_000);
    rmSync(join(box.workDir, 'filler'), { force: true });
    const modest = await run(box, 'head -c 1000000 /dev/zero > small');
    expect(modest.exit.exitCode).toBe(0);
    expect(modest.reason).toBeUndefined();
    await box.close();
  });

  it('catches a command that wrote past the cap and ended before a measurement', async () => {
    const box = await sandbox(4 * 1024 ** 2);
    const quick = await run(box, 'head -c 8000000 /dev/zero > filler');
    expect(quick.reason).toBe('filled its disk (4 MiB)');
    await box.close();
  });

  it('measures nothing without a cap', async () => {
    const box = await sandbox();
    const result = await run(box, 'head -c 8000000 /dev/zero > filler');
    expect(result.reason).toBeUndefined();
    await box.close();
  });
});
