import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTaskSchema, type BuildEvent, type BuildTask, type LogEvent, type ParsedBuildTask, type SandboxSettings, type StatusEvent } from '@platform/contracts';
import { bubblewrapWorks, createSandbox } from '@platform/sandbox';
import type { EventBus } from '@platform/event-bus';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { BuildEventEmitter, type LogCaps } from '../src/events.ts';
import { runBuild } from '../src/pipeline.ts';
import type { UploadLimits } from '../src/upload.ts';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

const cleanups: string[] = [];
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  // As a runner makes it: the sandbox's uid may pass through to the work folder it owns.
  chmodSync(dir, 0o711);
  cleanups.push(dir);
  return dir;
}

/**
 * The sandbox builds in these tests get: bubblewrap (as a uid of its own when the tests run as
 * root) where this machine can run it, as CI's does; otherwise none, as in single-user mode.
 * The hostile-build suite (test/sandbox) asserts the isolation itself and fails without it.
 */
export const SANDBOX_AVAILABLE = await bubblewrapWorks(process.getuid?.() === 0 ? { uid: 100_900 } : {});
export const TEST_SANDBOX: SandboxSettings = SANDBOX_AVAILABLE ? { isolation: 'bubblewrap', uid: 100_900, gid: 100_900, network: 'egress' } : { isolation: 'none' };
export function removeTempDirs(): void {
  for (const dir of cleanups.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** An EventBus that keeps every published build event, in order. */
export function capturingBus(): EventBus & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return {
    events,
    async publish(_topic, messages) {
      for (const m of messages) events.push(JSON.parse(m.value) as BuildEvent);
    },
    async subscribe() {
      throw new Error('capturing bus is publish-only');
    },
    async close() {},
  };
}

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@localhost', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@localhost', GIT_CONFIG_NOSYSTEM: '1', HOME: tmpdir() };

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, stdio: 'pipe' }).toString().trim();
}

/** A fresh git repository (branch `main`, one commit) holding a copy of the fixture; `files` are added or replaced. */
export function repoFromFixture(name: string | null, files: Record<string, string> = {}): string {
  const dir = tempDir(`repo-${name ?? 'empty'}`);
  if (name) cpSync(join(FIXTURES, name), dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    execFileSync('mkdir', ['-p', join(full, '..')]);
    execFileSync('tee', [full], { input: content, stdio: ['pipe', 'ignore', 'inherit'] });
  }
  git(dir, 'init', '--quiet', '--initial-branch=main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', 'fixture');
  return dir;
}

export function makeTask(overrides: Partial<BuildTask> & { gitUrl: string; storageDir: string }): ParsedBuildTask {
  const { storageDir, ...rest } = overrides;
  return buildTaskSchema.parse({
    deploymentId: `dep${Math.random().toString(36).slice(2, 12)}`,
    projectId: 'proj1',
    localGitRoots: ['/'],
    sandbox: TEST_SANDBOX,
    timeoutMs: 120_000,
    storage: { driver: 'local', dir: storageDir },
    transport: { driver: 'pipe' },
    ...rest,
  });
}

export interface FixtureBuild {
  result: 'READY' | 'ERROR';
  task: ParsedBuildTask;
  store: ObjectStore;
  events: BuildEvent[];
  logs: LogEvent[];
  /** Every log message, one per line. */
  text: string;
  final: StatusEvent;
}

export const DEFAULT_LIMITS: UploadLimits = { maxFiles: 1000, maxTotalBytes: 50 * 1024 ** 2, concurrency: 8 };

/** Runs the whole pipeline in process on a repository, with the local object store and a capturing bus. */
export async function buildRepo(
  repo: string,
  options: { task?: Partial<BuildTask>; limits?: Partial<UploadLimits>; caps?: LogCaps; storageDir?: string } = {},
): Promise<FixtureBuild> {
  const storageDir = options.storageDir ?? tempDir('store');
  const store = createLocalObjectStore({ rootDir: storageDir });
  const task = makeTask({ gitUrl: repo, storageDir, ...options.task });
  const bus = capturingBus();
  const emitter = new BuildEventEmitter(bus, { deploymentId: task.deploymentId, projectId: task.projectId }, options.caps ? { caps: options.caps } : {});
  const sandbox = await createSandbox({ settings: task.sandbox, root: tempDir('work'), name: task.deploymentId });
  const running = runBuild({
    task,
    store,
    events: emitter,
    sandbox,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  }).finally(() => sandbox.close());
  // A build that hangs fails here with what it logged so far, not at the test's timeout with nothing.
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    running,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void emitter.flush().then(() => reject(new Error(`build did not finish in 45 s; its log so far:\n${bus.events.map((e) => (e.type === 'log' ? `[${e.stream}] ${e.message}` : e.status)).join('\n')}`)));
      }, 45_000);
    }),
  ]).finally(() => clearTimeout(timer));
  await emitter.flush();
  const logs = bus.events.filter((e): e is LogEvent => e.type === 'log');
  return {
    result,
    task,
    store,
    events: bus.events,
    logs,
    text: logs.map((l) => l.message).join('\n'),
    final: bus.events.at(-1) as StatusEvent,
  };
}

/**
 * Host pids of running processes (not zombies) whose command line holds `marker`. Found from
 * outside: inside the sandbox a process has another pid and cannot write outside its folder.
 */
export function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}
