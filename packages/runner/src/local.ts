import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, readlink, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { encodeBuildTaskEnv, type BuildTask, type BuildTaskRequest, type SandboxSettings } from '@platform/contracts';
import type { EventBus } from '@platform/event-bus';
import { endBuildCgroup } from '@platform/sandbox';
import { relayBuildEvents } from './relay.ts';
import type { Runner, RunnerIsolation, RunnerTaskState, StartedTask } from './runner.ts';

export interface LocalRunnerOptions {
  /** argv that starts the build-server entry point, e.g. `[node, --import, tsx, main.ts]`. */
  command: readonly string[];
  /** Where the events the child writes on its pipe are republished. */
  eventBus: EventBus;
  /** Extra time past the task's own timeout before the runner kills the process tree. */
  killGraceMs?: number;
  /** The only variables the child gets besides HOME and the build task (PATH, LANG, TZ from config). */
  inheritedEnv?: Readonly<Record<string, string>>;
  /**
   * How the build-server isolates the user's commands (from `probeSandbox` and the limits in
   * config). Each build gets `uidBase + n` as its uid, n the lowest free slot, so no two
   * running builds share a uid.
   */
  sandbox: Omit<SandboxSettings, 'uid' | 'gid'>;
  /** First uid given to builds (as root). Default 100000. */
  uidBase?: number;
  /** What the probe found, for the platform's start-up line and the dashboard. */
  isolation: RunnerIsolation;
  onDiagnostic?: (line: string) => void;
  /**
   * The platform's folder for build scratch space: each build's folder is
   * `<scratchRoot>/build-<deploymentId>-<random>` (clone, caches, home, tmp, disk image), and
   * `sweepScratch` removes any folder there whose build is no longer running. Default: the
   * system temp folder (nothing is swept there: it is not the platform's alone).
   */
  scratchRoot?: string;
}

interface LocalTask {
  child: ChildProcess;
  deploymentId: string;
  slot: number;
  stopReason?: string;
  timedOut?: boolean;
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
}

const TASK_ID = /^local-(\d+)-([a-z0-9]+)$/;

/**
 * The embedded runner: each build is a child process running the build-server entry point,
 * in its own process group (so a kill takes its whole tree), with a scrubbed environment
 * that holds the build task and nothing of this process's secrets. Events come back over
 * fd 3 and are republished on the bus. The runner does not decide a deployment's fate: when
 * a child ends it tells the platform (`onTaskEnded`), whose reconciler records the end.
 */
export function createLocalRunner(options: LocalRunnerOptions): Runner {
  return new LocalRunner(options);
}

class LocalRunner implements Runner {
  readonly name = 'local';
  readonly isolation: RunnerIsolation;
  private readonly tasks = new Map<string, LocalTask>();
  private readonly listeners: ((taskId: string) => void)[] = [];
  private readonly inherited: Readonly<Record<string, string>>;
  private readonly killGraceMs: number;
  private readonly diag: (line: string) => void;
  private readonly asRoot = process.getuid?.() === 0;
  private readonly uidBase: number;
  private readonly argv: readonly string[];
  private readonly scratchRoot: string | undefined;
  /** Deployments whose folder exists but whose child is not yet in `tasks`. */
  private readonly starting = new Set<string>();

  constructor(private readonly options: LocalRunnerOptions) {
    const [program, ...baseArgs] = options.command;
    if (!program) throw new Error('local runner needs a command');
    this.isolation = options.isolation;
    this.inherited = options.inheritedEnv ?? { PATH: '/usr/local/bin:/usr/bin:/bin' };
    this.killGraceMs = options.killGraceMs ?? 30_000;
    this.diag = options.onDiagnostic ?? (() => {});
    this.uidBase = options.uidBase ?? 100_000;
    this.scratchRoot = options.scratchRoot;
    // As root, the build-server gets a mount namespace of its own: the scratch disk it mounts
    // for the build is gone when it is, however it ends (a hard kill of the whole platform).
    this.argv = this.asRoot ? ['unshare', '--mount', '--propagation', 'private', '--', program, ...baseArgs] : [program, ...baseArgs];
  }

  async start(request: BuildTaskRequest): Promise<StartedTask> {
    const { options } = this;
    const slot = this.freeSlot();
    const uid = this.uidBase + slot;
    const task = { ...request, sandbox: { ...options.sandbox, ...(this.asRoot && options.sandbox.isolation !== 'none' ? { uid, gid: uid } : {}) } };
    this.starting.add(task.deploymentId);
    try {
      return await this.launch(task, slot);
    } finally {
      this.starting.delete(task.deploymentId);
    }
  }

  private async launch(task: BuildTask, slot: number): Promise<StartedTask> {
    const workDir = await mkdtemp(workDirPrefix(this.scratchRoot, task.deploymentId));
    // The sandbox's uid passes through to the work folder it owns; it can list nothing here.
    await chmod(workDir, 0o711);
    const env: Record<string, string> = { ...this.inherited, HOME: workDir, ...encodeBuildTaskEnv(task) };
    const child = spawn(this.argv[0]!, this.argv.slice(1), {
      cwd: workDir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      shell: false,
    });
    if (child.pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      await rm(workDir, { recursive: true, force: true });
      throw new Error(`could not start the build process: ${error.message}`);
    }
    const state: LocalTask = { child, deploymentId: task.deploymentId, slot };
    const taskId = `local-${child.pid}-${task.deploymentId}`;
    this.tasks.set(taskId, state);
    this.follow(taskId, state, task, workDir);
    return { taskId };
  }

  /** The lowest slot no running build holds. */
  private freeSlot(): number {
    const used = new Set([...this.tasks.values()].filter((t) => !t.exit).map((t) => t.slot));
    let slot = 0;
    while (used.has(slot)) slot++;
    return slot;
  }

  /** Relays the child's events and diagnostics, kills it past its deadline, and cleans up after it once it ends. */
  private follow(taskId: string, state: LocalTask, task: BuildTask, workDir: string): void {
    const { child } = state;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(this.diag));
    }

    const deadline = setTimeout(
      () => {
        state.timedOut = true;
        killGroup(child.pid, 'SIGKILL');
      },
      (task.timeoutMs ?? 15 * 60_000) + this.killGraceMs,
    );
    deadline.unref();

    const relay = relayBuildEvents(child.stdio[3] as Readable, task, this.options.eventBus, this.diag);

    child.once('close', async (code, signal) => {
      clearTimeout(deadline);
      // Every event the child wrote is on the bus before anyone hears that it ended.
      await relay.catch((err) => this.diag(`event relay failed: ${String(err)}`));
      state.exit = { code, signal, at: Date.now() };
      // The user's commands run in process groups of their own: whatever outlived the build-server goes with it,
      // and so does anything still in the build's cgroup (a supervisor killed mid-command cleans up nothing).
      await killLeftovers(this.scratchRoot, task.deploymentId);
      if (task.sandbox.isolation === 'bubblewrap') await endBuildCgroup(`build-${task.deploymentId}`).catch(() => {});
      for (const listener of this.listeners) listener(taskId);
      await rm(workDir, { recursive: true, force: true }).catch(() => {});
    });
  }

  async stop(taskId: string, reason: string): Promise<void> {
    const task = this.tasks.get(taskId);
    if (!task) return stopOrphan(this.scratchRoot, taskId);
    if (task.exit) return;
    task.stopReason = reason;
    killGroup(task.child.pid, 'SIGTERM');
    const hard = setTimeout(() => killGroup(task.child.pid, 'SIGKILL'), 5_000);
    hard.unref();
    task.child.once('close', () => clearTimeout(hard));
  }

  async describe(taskId: string): Promise<RunnerTaskState> {
    const task = this.tasks.get(taskId);
    if (!task) {
      const match = TASK_ID.exec(taskId);
      const alive = match && ((await findOrphan(taskId)) !== null || (await orphanProcessGroups(this.scratchRoot, match[2]!)).length > 0);
      return alive ? { state: 'running', orphaned: true } : { state: 'unknown' };
    }
    if (!task.exit) return { state: 'running' };
    const { code, signal, at } = task.exit;
    const reason = task.stopReason
      ? `stopped: ${task.stopReason}`
      : task.timedOut
        ? 'killed after its timeout'
        : signal
          ? `build process was killed by ${signal}`
          : `build process exited with code ${code}`;
    return { state: 'stopped', ...(code !== null ? { exitCode: code } : {}), reason, stoppedAt: at };
  }

  /**
   * Removes every build folder under the scratch root whose build no longer runs: what a
   * hard-killed platform's builds left (their processes gone or stopped by the reconciler).
   * A folder that still has a process working in it is left for a later sweep. With
   * `finished` (which of these deployments have ended), the folders this platform's builds
   * left in the system temp folder before it had a scratch root go too; nobody else's.
   */
  async sweepScratch(finished?: (deploymentIds: string[]) => Promise<string[]>): Promise<string[]> {
    const root = this.scratchRoot;
    if (!root) return [];
    const removed = await this.sweepIn(root, await buildFolders(root));
    if (finished && resolve(root) !== resolve(tmpdir())) {
      const legacy = await buildFolders(tmpdir());
      if (legacy.length > 0) {
        const ended = new Set(await finished([...new Set(legacy.map((f) => f.deploymentId))]));
        removed.push(
          ...(await this.sweepIn(
            tmpdir(),
            legacy.filter((f) => ended.has(f.deploymentId)),
          )),
        );
      }
    }
    return removed;
  }

  private async sweepIn(root: string, folders: BuildFolder[]): Promise<string[]> {
    const removed: string[] = [];
    const running = (deploymentId: string) =>
      this.starting.has(deploymentId) || [...this.tasks.values()].some((t) => !t.exit && t.deploymentId === deploymentId);
    for (const { name, deploymentId } of folders) {
      if (running(deploymentId)) continue;
      if ((await buildProcessGroups(root, deploymentId)).length > 0) continue;
      // Checked again: a build of this deployment may have started meanwhile.
      if (running(deploymentId)) continue;
      await rm(join(root, name), { recursive: true, force: true }).then(
        () => removed.push(deploymentId),
        (err: unknown) => this.diag(`could not remove the build folder ${name}: ${String(err)}`),
      );
    }
    return removed;
  }

  onTaskEnded(listener: (taskId: string) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    const running = [...this.tasks.values()].filter((t) => !t.exit);
    await Promise.all(
      running.map(
        (t) =>
          new Promise<void>((resolve) => {
            t.stopReason = 'platform shutting down';
            t.child.once('close', () => resolve());
            killGroup(t.child.pid, 'SIGKILL');
          }),
      ),
    );
    // The scratch root goes too when no build left anything in it (the next start makes it again).
    if (this.scratchRoot) await rmdir(this.scratchRoot).catch(() => {});
  }
}

/** A build from before a restart: its processes may still run, with nobody reading its events. */
async function stopOrphan(scratchRoot: string | undefined, taskId: string): Promise<void> {
  const match = TASK_ID.exec(taskId);
  if (!match) return;
  const orphan = await findOrphan(taskId);
  if (orphan) killGroup(orphan, 'SIGKILL');
  for (const group of await orphanProcessGroups(scratchRoot, match[2]!)) killGroup(group, 'SIGKILL');
  await endBuildCgroup(`build-${match[2]!}`).catch(() => {});
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Every build's working folder starts with this, so its processes can be found by their cwd. */
function workDirPrefix(scratchRoot: string | undefined, deploymentId: string): string {
  return join(scratchRoot ?? tmpdir(), `build-${deploymentId}-`);
}

/** A build folder's name: `build-<deploymentId>-<random>`. */
const SCRATCH_FOLDER = /^build-([a-z0-9]+)-[^/]+$/;

interface BuildFolder {
  name: string;
  deploymentId: string;
}

/** The build folders directly in `root`. */
async function buildFolders(root: string): Promise<BuildFolder[]> {
  const folders: BuildFolder[] = [];
  for (const entry of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    const deploymentId = SCRATCH_FOLDER.exec(entry.name)?.[1];
    if (deploymentId && entry.isDirectory()) folders.push({ name: entry.name, deploymentId });
  }
  return folders;
}

/**
 * Process groups with a process working inside the build's folder: the build-server and the
 * user's install and build commands, which it starts in process groups of their own (and
 * which, once the build-server is gone, no parent links to the build any more).
 */
async function buildProcessGroups(scratchRoot: string | undefined, deploymentId: string): Promise<number[]> {
  const prefix = workDirPrefix(scratchRoot, deploymentId);
  const groups = new Set<number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!(await readlink(`/proc/${entry}/cwd`)).startsWith(prefix)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'latin1');
      // Fields after the parenthesised command name: state, ppid, pgrp, ...
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp > 1) groups.add(pgrp);
    } catch {
      /* gone meanwhile, or not readable */
    }
  }
  return [...groups];
}

/** A build's process groups, also in the system temp folder, where builds from before the scratch root worked. */
async function orphanProcessGroups(scratchRoot: string | undefined, deploymentId: string): Promise<number[]> {
  const groups = await buildProcessGroups(scratchRoot, deploymentId);
  return scratchRoot === undefined ? groups : [...groups, ...(await buildProcessGroups(undefined, deploymentId))];
}

async function killLeftovers(scratchRoot: string | undefined, deploymentId: string): Promise<void> {
  for (const group of await buildProcessGroups(scratchRoot, deploymentId)) killGroup(group, 'SIGKILL');
}

/**
 * The pid of a build process started by an earlier run of this runner, if it still runs: the
 * pid alone could have been reused, so its environment must carry the same deployment's task.
 */
async function findOrphan(taskId: string): Promise<number | null> {
  const match = TASK_ID.exec(taskId);
  if (!match) return null;
  const pid = Number(match[1]);
  try {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1');
    return environ.includes(`"deploymentId":"${match[2]}"`) ? pid : null;
  } catch {
    return null;
  }
}
