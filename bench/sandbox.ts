/**
 * `npm run bench:sandbox`: what the build sandbox adds to a build's wall time, measured in one
 * run against the same build unsandboxed. A static site with `npm install` and `npm run build`
 * (two sandboxed commands), built through the real local runner (the build-server as a child
 * process, clone, detect, upload, events), alternately with `isolation: bubblewrap` (a uid of
 * its own, namespaces, slirp4netns and the firewall, cgroup limits, the loop-mounted scratch
 * disk) and `isolation: none`. Also one command alone (`true`), to show the per-command cost.
 * Goal: at most 300 ms per build.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localBuildServerCommand } from '@platform/api-server';
import type { SandboxSettings } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { createLocalRunner } from '@platform/runner';
import { bubblewrapWorks, createSandbox } from '@platform/sandbox';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const root = mkdtempSync(join(tmpdir(), 'bench-sandbox-'));
const repo = join(root, 'repo');
cpSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'vanilla-site'), repo, { recursive: true });
writeFileSync(
  join(repo, 'package.json'),
  JSON.stringify({ name: 'bench-site', private: true, scripts: { build: "node -e \"require('fs').cpSync('src', 'dist', { recursive: true })\"" } }),
);
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: repo,
    stdio: 'pipe',
    env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' },
  });
git('init', '-q', '-b', 'main');
git('add', '-A');
git('commit', '-qm', 'bench');

if (!(await bubblewrapWorks(process.getuid?.() === 0 ? { uid: 100_000 } : {}))) {
  console.error('bench:sandbox needs bubblewrap (apt-get install -y bubblewrap slirp4netns nftables)');
  process.exit(1);
}

const sandboxed: SandboxSettings = {
  isolation: 'bubblewrap',
  network: 'egress',
  memoryBytes: 2 * 1024 ** 3,
  pids: 1024,
  cpuSeconds: 1800,
  diskBytes: 4 * 1024 ** 3,
};
const unsandboxed: SandboxSettings = { isolation: 'none', network: 'egress' };

/** One whole build through the local runner; ms from start() until the runner reports its end. */
async function build(sandbox: SandboxSettings): Promise<number> {
  const bus = createInProcessEventBus();
  let final = '';
  await bus.subscribe('build-events', { groupId: 'bench' }, async (messages) => {
    for (const m of messages) {
      const event = JSON.parse(m.value) as { type: string; status?: string; detail?: string };
      if (event.type === 'status' && event.status !== 'BUILDING') final = `${event.status} ${event.detail ?? ''}`;
    }
  });
  const runner = createLocalRunner({
    command: localBuildServerCommand(),
    eventBus: bus,
    sandbox,
    isolation: { singleUser: false, summary: '', problems: [] },
    inheritedEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const ended = new Promise<void>((resolve) => runner.onTaskEnded!(() => resolve()));
  const started = performance.now();
  await runner.start({
    deploymentId: `bench${Math.random().toString(36).slice(2, 12)}`,
    projectId: 'bench',
    gitUrl: repo,
    localGitRoots: [root],
    useBuildCache: false,
    storage: { driver: 'local', dir: join(root, 'store') },
    transport: { driver: 'pipe' },
  });
  await ended;
  const ms = performance.now() - started;
  await bus.close();
  if (!final.startsWith('READY')) throw new Error(`bench build ended ${final}`);
  return ms;
}

/** One command (`true`) in a fresh sandbox of each kind, as runCommand starts it. */
async function command(settings: SandboxSettings): Promise<number> {
  const dir = mkdtempSync(join(root, 'cmd-'));
  const sandbox = await createSandbox({
    settings: { ...settings, ...(process.getuid?.() === 0 && settings.isolation !== 'none' ? { uid: 100_000, gid: 100_000 } : {}) },
    root: dir,
    name: `bench${Math.random().toString(36).slice(2, 10)}`,
  });
  const started = performance.now();
  const child = await sandbox.spawn(['true'], { cwd: sandbox.workDir, env: { PATH: '/usr/bin:/bin' } });
  child.stdout.resume();
  child.stderr.resume();
  await child.exited;
  const ms = performance.now() - started;
  await sandbox.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  await build(unsandboxed); // warm the tsx cache and the page cache
  await build(sandboxed);
  const times = { on: [] as number[], off: [] as number[], cmdOn: [] as number[], cmdOff: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    times.off.push(await build(unsandboxed));
    times.on.push(await build(sandboxed));
    times.cmdOff.push(await command(unsandboxed));
    times.cmdOn.push(await command(sandboxed));
  }
  const [on, off, cmdOn, cmdOff] = [median(times.on), median(times.off), median(times.cmdOn), median(times.cmdOff)];
  console.log(`build, unsandboxed (baseline): median ${off.toFixed(0)} ms of ${ROUNDS} (${times.off.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(`build, sandboxed:              median ${on.toFixed(0)} ms of ${ROUNDS} (${times.on.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(`one command \`true\`: unsandboxed ${cmdOff.toFixed(1)} ms, sandboxed ${cmdOn.toFixed(1)} ms (+${(cmdOn - cmdOff).toFixed(1)} ms per command)`);
  const added = on - off;
  console.log(
    `sandbox adds ${added.toFixed(0)} ms to a build of two commands (${(on / off).toFixed(2)}x the unsandboxed ${off.toFixed(0)} ms); goal <= 300 ms: ${added <= 300 ? 'met' : 'missed'}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
