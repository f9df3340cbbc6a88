import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { encodeBuildTaskEnv, isUnderRoots, type BuildTask, type BuildTaskRequest } from '@platform/contracts';
import type { EventBus } from '@platform/event-bus';
import { hostAddresses } from '@platform/sandbox';
import { relayBuildEvents } from './relay.ts';
import type { Runner, RunnerIsolation, RunnerTaskState, StartedTask } from './runner.ts';

export interface ContainerLimits {
  /** CPUs the build may use (`--cpus`). */
  cpus: number;
  /** Memory limit, podman syntax (`512m`, `2g`); swap is held to the same value. */
  memory: string;
  /** Most processes and threads in the container (`--pids-limit`). */
  pids: number;
  /** Size of the writable scratch folder, a tmpfs (`/scratch`). */
  scratchSize: string;
}

export interface ContainerRunnerOptions {
  /** `podman` (recommended: its exit codes are the container's) or `docker`. */
  engine: 'podman' | 'docker';
  /** Path or name of the engine's CLI; default: the engine name, found on PATH. */
  engineBinary?: string;
  /** PATH the engine CLI runs with (it gets nothing else besides the build task). */
  enginePath?: string;
  /** The build-server image (see `container/build-image.sh`). */
  image: string;
  limits: ContainerLimits;
  /** `--network` for the build (`none`, `slirp4netns`, a network name); the engine's default when absent. */
  network?: string;
  /**
   * podman: give each build container a user namespace of its own (`--userns=auto`), so root
   * in it is an unprivileged uid on the host. Needs subordinate ids for the `containers` user
   * (`setup-podman.sh` adds them). Default true with podman.
   */
  userNamespace?: boolean;
  /** PATH for the git that copies a local repository before a build (embedded default). */
  gitPath?: string;
  /** Where the events the container writes are republished. */
  eventBus: EventBus;
  onDiagnostic?: (line: string) => void;
}

interface ContainerTask {
  child: ChildProcess;
  cleanup: () => Promise<void>;
  stopReason?: string;
  exit?: { code: number | null; at: number; oomKilled?: boolean };
}

/** Container names are `platform-build-<deploymentId>`: a restarted api-server finds its builds by name. */
export const CONTAINER_NAME_PREFIX = 'platform-build-';

/** The uid the user's commands get inside the container, apart from the build-server (root in its user namespace). */
export const CONTAINER_SANDBOX_UID = 1001;

/**
 * Runs each build in its own container through the podman (or docker) CLI: no privilege
 * escalation, a read-only root with a tmpfs scratch folder, and CPU, memory and process
 * limits. Inside, the build-server runs as the container's root with the few capabilities a
 * supervisor needs (switch to the build's uid, own and read its files, end its processes) and
 * puts the user's commands in the same bubblewrap sandbox as on the local runner, as uid 1001
 * (`/proc` is unmasked so that the sandbox can mount its own); with podman the container has
 * a user namespace of its own, so its root is nobody on the host. The build-server inside writes its events to stdout (the image's entry
 * point points fd 3 there), which this runner reads and republishes on the bus, as the local
 * runner does with its pipe. With a `kafka` transport the stdout simply stays empty.
 *
 * The task travels in the engine's environment (`-e BUILD_TASK` without a value), never on
 * its command line, where any local user could read it with `ps`.
 */
export function createContainerRunner(options: ContainerRunnerOptions): Runner {
  return new ContainerRunner(options);
}

class ContainerRunner implements Runner {
  readonly name: string;
  readonly isolation: RunnerIsolation;
  private readonly binary: string;
  private readonly tasks = new Map<string, ContainerTask>();
  private readonly listeners: ((taskId: string) => void)[] = [];
  private readonly diag: (line: string) => void;
  private readonly userNamespace: boolean;
  private readonly network: string | undefined;

  constructor(private readonly options: ContainerRunnerOptions) {
    this.name = options.engine;
    this.binary = options.engineBinary ?? options.engine;
    this.diag = options.onDiagnostic ?? (() => {});
    this.userNamespace = options.userNamespace ?? options.engine === 'podman';
    // podman's own user-mode network, without a route to the host's loopback: no bridge to set up.
    this.network = options.network ?? (options.engine === 'podman' ? 'slirp4netns:allow_host_loopback=false' : undefined);
    this.isolation = {
      singleUser: false,
      summary: `each build in a ${options.engine} container${this.userNamespace ? ' with a user namespace of its own' : ''}; inside it, the user's commands in a bubblewrap sandbox as uid ${CONTAINER_SANDBOX_UID} (or that uid alone where the kernel refuses namespaces)`,
      problems: [],
    };
  }

  async start(request: BuildTaskRequest): Promise<StartedTask> {
    const name = CONTAINER_NAME_PREFIX + request.deploymentId;
    const source = await prepareSource(request, this.options.gitPath);
    const task: BuildTask = {
      ...request,
      ...source.task,
      sandbox: {
        isolation: 'auto',
        uid: CONTAINER_SANDBOX_UID,
        gid: CONTAINER_SANDBOX_UID,
        network: this.options.network === 'none' ? 'none' : 'egress',
        // Inside the container the host's own addresses are unknown: the firewall gets them from here.
        egressDeny: hostAddresses(),
      },
    };
    let mounts: Mount[];
    try {
      mounts = [...(await prepareStoreMounts(task)), ...source.mounts];
    } catch (err) {
      await source.cleanup();
      throw err;
    }
    const child = spawn(this.binary, this.runArgs(name, task, mounts), {
      env: { PATH: this.options.enginePath ?? '/usr/local/bin:/usr/bin:/bin', ...encodeBuildTaskEnv(task) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    if (child.pid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once('error', resolve));
      await source.cleanup();
      throw new Error(`could not run ${this.binary}: ${error.message}`);
    }
    this.follow(name, task, { child, cleanup: source.cleanup });
    return { taskId: name };
  }

  /** The engine's `run` command line: the container's isolation and limits (the task itself goes in its environment). */
  private runArgs(name: string, task: BuildTask, mounts: readonly Mount[]): string[] {
    const { options, userNamespace, network } = this;
    // NET_ADMIN installs the firewall on the build's uid in the container's own network
    // namespace; only inside a user namespace of its own, where it reaches nothing of the host's.
    const supervisorCaps = [
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'SETUID',
      'SETGID',
      'KILL',
      ...(userNamespace && options.network !== 'none' ? ['NET_ADMIN'] : []),
    ];
    const timeoutS = Math.ceil((task.timeoutMs ?? 15 * 60_000) / 1000);
    return [
      'run',
      '--rm',
      '--name',
      name,
      '--label',
      `platform.deployment=${task.deploymentId}`,
      '--label',
      `platform.project=${task.projectId}`,
      '--user',
      '0:0',
      ...(userNamespace ? ['--userns', 'auto'] : []),
      '--read-only',
      '--tmpfs',
      `/scratch:rw,exec,nosuid,nodev,mode=1777,size=${options.limits.scratchSize}`,
      '--tmpfs',
      '/tmp:rw,nosuid,nodev,mode=1777,size=64m',
      '--cap-drop',
      'ALL',
      ...supervisorCaps.flatMap((cap) => ['--cap-add', cap]),
      '--security-opt',
      'no-new-privileges',
      // The sandbox mounts a /proc of its own, which the kernel allows only where /proc is not masked.
      '--security-opt',
      options.engine === 'podman' ? 'unmask=/proc/*' : 'systempaths=unconfined',
      '--cpus',
      String(options.limits.cpus),
      '--memory',
      options.limits.memory,
      '--memory-swap',
      options.limits.memory,
      '--pids-limit',
      String(options.limits.pids),
      ...(options.engine === 'podman' ? ['--timeout', String(timeoutS + 30)] : []),
      ...(network ? ['--network', network] : []),
      '-w',
      '/scratch',
      '-e',
      'HOME=/scratch',
      '-e',
      'BUILD_WORK_DIR=/scratch',
      '-e',
      'BUILD_TASK',
      // `U`: podman hands a mounted folder to the container's (namespaced) root.
      ...mounts.flatMap((m) => ['-v', `${m.host}:${m.container}:${m.readOnly ? 'ro' : 'rw'}${!m.readOnly && userNamespace ? ',U' : ''}`]),
      options.image,
    ];
  }

  /** Relays the container's events and diagnostics; once its CLI process closes, records the exit and tells the listeners. */
  private follow(name: string, task: BuildTask, state: ContainerTask): void {
    const { child } = state;
    this.tasks.set(name, state);
    let stderrTail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-2_000);
      chunk.split('\n').filter(Boolean).forEach(this.diag);
    });
    const relay = relayBuildEvents(child.stdout!, task, this.options.eventBus, this.diag);

    child.once('close', async (code) => {
      await relay.catch((err) => this.diag(`event relay failed: ${String(err)}`));
      await state.cleanup().catch(() => {});
      state.exit = { code, at: Date.now(), ...(code === 137 && !state.stopReason ? { oomKilled: /oom/i.test(stderrTail) } : {}) };
      for (const listener of this.listeners) listener(name);
    });
  }

  async stop(taskId: string, reason: string): Promise<void> {
    const task = this.tasks.get(taskId);
    if (task?.exit) return;
    if (task) task.stopReason = reason;
    // `kill` rather than `stop`: a canceled build has nothing to save; `--rm` removes it.
    const result = await this.engine(['kill', taskId]);
    if (result.code !== 0 && !/no such container|no container with name|not running/i.test(result.stderr)) {
      throw new Error(`${this.binary} kill ${taskId} failed: ${result.stderr.trim()}`);
    }
  }

  async describe(taskId: string): Promise<RunnerTaskState> {
    const task = this.tasks.get(taskId);
    if (task?.exit) {
      const { code, at } = task.exit;
      const reason = task.stopReason
        ? `stopped: ${task.stopReason}`
        : code === 137
          ? 'the build container was killed (exit code 137: SIGKILL, often the memory limit)'
          : code !== null && code >= 125 && code <= 127
            ? `${this.binary} could not run the build container (exit code ${code})`
            : `the build container exited with code ${code}`;
      return { state: 'stopped', ...(code !== null ? { exitCode: code } : {}), reason, stoppedAt: at };
    }
    if (task) return { state: 'running' };
    // Not started by this process: a container from before a restart, or nothing.
    const inspected = await this.engine(['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', taskId]);
    if (inspected.code !== 0) return { state: 'unknown' };
    const [status, exit] = inspected.stdout.trim().split(' ');
    if (status === 'running' || status === 'created' || status === 'configured' || status === 'paused') {
      // Its stdout went to a process that is gone: its events can never reach the platform.
      return { state: 'running', orphaned: true };
    }
    return { state: 'stopped', exitCode: Number(exit), reason: `the build container is ${status} (exit code ${exit})` };
  }

  /**
   * The builds' file systems are their containers' own; only the copies of local repositories
   * (`build-source-<deploymentId>-*` in the system temp folder) outlive a hard kill. Those of
   * deployments that ended and that no container of this runner still reads go.
   */
  async sweepScratch(finished?: (deploymentIds: string[]) => Promise<string[]>): Promise<string[]> {
    if (!finished) return [];
    const copies: { name: string; deploymentId: string }[] = [];
    for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
      const deploymentId = /^build-source-([a-z0-9]+)-[^/]+$/.exec(name)?.[1];
      if (deploymentId) copies.push({ name, deploymentId });
    }
    if (copies.length === 0) return [];
    const ended = new Set(await finished([...new Set(copies.map((c) => c.deploymentId))]));
    const running = [...this.tasks.entries()].filter(([, t]) => !t.exit).map(([taskId]) => taskId);
    const removed: string[] = [];
    for (const { name, deploymentId } of copies) {
      if (!ended.has(deploymentId) || running.includes(`${CONTAINER_NAME_PREFIX}${deploymentId}`)) continue;
      await rm(join(tmpdir(), name), { recursive: true, force: true }).then(
        () => removed.push(deploymentId),
        () => {},
      );
    }
    return removed;
  }

  onTaskEnded(listener: (taskId: string) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    // Containers outlive this process on purpose: the next start reconciles them. Only the
    // CLI processes that relay their output end with it.
    for (const task of this.tasks.values()) if (!task.exit) task.child.stdout?.destroy();
  }

  private engine(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(this.binary, args, { maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }
}

interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

/**
 * With a local-folder store the build needs that folder, but only its own part of it: its
 * deployment's prefix, its project's content namespace (content-addressed files, verified by
 * hash wherever they are served) and its project's build cache, at the same paths as on the host.
 */
async function prepareStoreMounts(task: BuildTask): Promise<Mount[]> {
  const mounts: Mount[] = [];
  if (task.storage.driver === 'local') {
    const own = [
      join(task.storage.dir, 'deployments', task.deploymentId),
      join(task.storage.dir, 'content', task.projectId),
      join(task.storage.dir, 'build-cache', task.projectId),
    ];
    for (const dir of own) {
      await mkdir(dir, { recursive: true });
      mounts.push({ host: mountable(dir), container: dir, readOnly: false });
    }
  }
  return mounts;
}

/** `-v host:container:mode` has no escaping: a path with ':' or ',' would change the mount. */
function mountable(path: string): string {
  if (/[:,\n]/.test(path)) throw new Error(`cannot mount ${JSON.stringify(path)} into a build container: the path contains ':' or ','`);
  return path;
}

const SOURCE_IN_CONTAINER = '/source/repo.git';

/**
 * A local git repository (embedded default, under an allowed root) is never mounted into the
 * build: the runner, on the trusted side, copies it (a bare clone without hard links, after
 * its symlinks are followed and checked against the roots), and the container gets the copy,
 * read-only. What a tenant names is only ever read by this process's git.
 */
async function prepareSource(task: BuildTaskRequest, gitPath?: string): Promise<{ task: Partial<BuildTask>; mounts: Mount[]; cleanup: () => Promise<void> }> {
  const roots = task.localGitRoots ?? [];
  const local = task.gitUrl.startsWith('file://') ? task.gitUrl.slice('file://'.length) : isAbsolute(task.gitUrl) ? task.gitUrl : null;
  if (local === null || roots.length === 0) return { task: { localGitRoots: [] }, mounts: [], cleanup: async () => {} };
  const real = await realpath(local).catch(() => null);
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => r)));
  // Refused here the build would only fail later, in the container, with the same words.
  if (real === null || !isUnderRoots(real, realRoots)) return { task: { localGitRoots: [] }, mounts: [], cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), `build-source-${task.deploymentId}-`));
  await chmod(dir, 0o711);
  const copy = join(dir, 'repo.git');
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        'git',
        ['clone', '--bare', '--quiet', '--no-hardlinks', '--', real, copy],
        {
          env: { PATH: gitPath ?? '/usr/local/bin:/usr/bin:/bin', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
          timeout: 120_000,
        },
        (err, _stdout, stderr) => (err ? reject(new Error(`copying the local repository failed: ${stderr.trim() || err.message}`)) : resolve()),
      );
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    task: { gitUrl: SOURCE_IN_CONTAINER, localGitRoots: ['/source'] },
    mounts: [{ host: mountable(copy), container: SOURCE_IN_CONTAINER, readOnly: true }],
    cleanup,
  };
}
