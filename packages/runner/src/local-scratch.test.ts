import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildTaskRequest } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { createLocalRunner } from './local.ts';

// The local runner's scratch root: each build's folder is named by its deployment, removed when
// the build ends, and a sweep removes what builds that no longer run left (a hard-killed
// platform's), never a running build's folder nor anything that is not a build folder.

const roots: string[] = [];
afterEach(() => {
  for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratchRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scratch-root-'));
  roots.push(dir);
  return dir;
}

function runner(root: string, script = 'setTimeout(() => {}, 30000)') {
  return createLocalRunner({
    command: [process.execPath, '-e', script],
    eventBus: createInProcessEventBus(),
    sandbox: { isolation: 'none', network: 'egress' },
    isolation: { singleUser: true, summary: 'test', problems: [] },
    scratchRoot: root,
  });
}

const task = (deploymentId: string, storeDir: string): BuildTaskRequest => ({
  deploymentId,
  projectId: 'prj_x',
  gitUrl: 'https://example.com/a.git',
  buildEnv: {},
  storage: { driver: 'local', dir: storeDir },
  transport: { driver: 'pipe' },
});

describe('local runner scratch folders', () => {
  it('makes each build folder in the scratch root, named by its deployment, and removes it when the build ends', async () => {
    const root = scratchRoot();
    const r = runner(root);
    const { taskId } = await r.start(task('dplrunning0001', root));
    expect(readdirSync(root)).toEqual([expect.stringMatching(/^build-dplrunning0001-/)]);
    // A running build's folder is never swept.
    expect(await r.sweepScratch!()).toEqual([]);
    expect(readdirSync(root)).toHaveLength(1);
    const ended = new Promise<void>((resolve) => r.onTaskEnded!(() => resolve()));
    await r.stop(taskId, 'test');
    await ended;
    for (let i = 0; i < 50 && readdirSync(root).length > 0; i++) await sleep(50);
    expect(readdirSync(root)).toEqual([]);
    // An empty scratch root goes at shutdown.
    await r.close();
    expect(existsSync(root)).toBe(false);
  });

  it("sweeps dead builds' folders, keeps one a process still works in, and leaves other files alone", async () => {
    const root = scratchRoot();
    const dead = join(root, 'build-dpldead0001-abc123');
    mkdirSync(join(dead, 'build-x', 'work', 'home', '.npm'), { recursive: true });
    const busy = join(root, 'build-dplbusy0001-def456');
    mkdirSync(busy);
    const other = join(root, 'not-a-build');
    mkdirSync(other);
    // An orphan of an earlier run: a process whose working folder is the build's.
    const orphan = spawn('sleep', ['30'], { cwd: busy, stdio: 'ignore' });
    await new Promise((resolve) => orphan.once('spawn', resolve));
    const r = runner(root);
    expect(await r.sweepScratch!()).toEqual(['dpldead0001']);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(busy)).toBe(true);
    expect(existsSync(other)).toBe(true);
    orphan.kill('SIGKILL');
    await new Promise((resolve) => orphan.once('exit', resolve));
    expect(await r.sweepScratch!()).toEqual(['dplbusy0001']);
    expect(readdirSync(root)).toEqual(['not-a-build']);
    await r.close();
  });

  it("removes the folders its builds left in the system temp folder before, only of deployments that ended, and nobody else's", async () => {
    const root = scratchRoot();
    const suffix = Math.random().toString(36).slice(2, 10);
    const ours = join(tmpdir(), `build-dplold${suffix}-abc123`);
    const unknown = join(tmpdir(), `build-dplother${suffix}-abc123`);
    for (const dir of [ours, unknown]) {
      mkdirSync(join(dir, 'work'), { recursive: true });
      roots.push(dir);
    }
    const r = runner(root);
    let asked: string[] = [];
    const removed = await r.sweepScratch!(async (ids) => {
      asked = ids;
      return ids.filter((id) => id === `dplold${suffix}`);
    });
    expect(asked).toEqual(expect.arrayContaining([`dplold${suffix}`, `dplother${suffix}`]));
    expect(removed).toEqual([`dplold${suffix}`]);
    expect(existsSync(ours)).toBe(false);
    expect(existsSync(unknown)).toBe(true);
    await r.close();
  });
});
