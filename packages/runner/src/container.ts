import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { buildEventSchema, encodeBuildTaskEnv, type BuildTask } from '@platform/contracts';
import { publishFrames, readPipeBatches, type EventBus } from '@platform/event-bus';
import type { Runner, RunnerTaskState } from './runner.ts';

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
  /** uid:gid the build runs as inside the container. Default 1000:1000. */
  user?: string;
  /** Where the events the container writes are republished. */
  eventBus: EventBus;
  onDiagnostic?: (line: string) => void;
}

interface ContainerTask {
  child: ChildProcess;
  stopReason?: string;
  exit?: { code: number | null; at: number; oomKilled?: boolean };
}

/** Container names are `platform-build-<deploymentId>`: a restarted api-server finds its builds by name. */
export const CONTAINER_NAME_PREFIX = 'platform-build-';

/**
 * Runs each build in its own container through the podman (or docker) CLI: no capabilities,
 * no privilege escalation, a read-only root with a tmpfs scratch folder, and CPU, memory and
 * process limits. The build-server inside writes its events to stdout (the image's entry
 * point points fd 3 there), which this runner reads and republishes on the bus, as the local
 * runner does with its pipe. With a `kafka` transport the stdout simply stays empty.
 *
 * The task travels in the engine's environment (`-e BUILD_TASK` without a value), never on
 * its command line, where any local user could read it with `ps`.
 */
export function createContainerRunner(options: ContainerRunnerOptions): Runner {
  const binary = options.engineBinary ?? options.engine;
  const tasks = new Map<string, ContainerTask>();
  const listeners: ((taskId: string) => void)[] = [];
  const diag = options.onDiagnostic ?? (() => {});
  const user = options.user ?? '1000:1000';

  const engine = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(binary, args, { maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });

  return {
    name: options.engine,

    async start(task: BuildTask) {
      const name = CONTAINER_NAME_PREFIX + task.deploymentId;
      const mounts = await prepareMounts(task, user);
      const timeoutS = Math.ceil((task.timeoutMs ?? 15 * 60_000) / 1000);
      const args = [
        'run', '--rm', '--name', name,
        '--label', `platform.deployment=${task.deploymentId}`,
        '--label', `platform.project=${task.projectId}`,
        '--user', user,
        '--read-only',
        '--tmpfs', `/scratch:rw,exec,nosuid,nodev,mode=1777,size=${options.limits.scratchSize}`,
        '--tmpfs', '/tmp:rw,nosuid,nodev,mode=1777,size=64m',
        '--cap-drop', 'ALL',
        '--security-opt', 'no-new-privileges',
        '--cpus', String(options.limits.cpus),
        '--memory', options.limits.memory,
        '--memory-swap', options.limits.memory,
        '--pids-limit', String(options.limits.pids),
        ...(options.engine === 'podman' ? ['--timeout', String(timeoutS + 30)] : []),
        ...(options.network ? ['--network', options.network] : []),
        '-w', '/scratch',
        '-e', 'HOME=/scratch',
        '-e', 'BUILD_WORK_DIR=/scratch',
        '-e', 'BUILD_TASK',
        ...mounts.flatMap((m) => ['-v', `${m.host}:${m.container}:${m.readOnly ? 'ro' : 'rw'}`]),
        options.image,
      ];
      const child = spawn(binary, args, {
        env: { PATH: options.enginePath ?? '/usr/local/bin:/usr/bin:/bin', ...encodeBuildTaskEnv(task) },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
      });
      if (child.pid === undefined) {
        const error = await new Promise<Error>((resolve) => child.once('error', resolve));
        throw new Error(`could not run ${binary}: ${error.message}`);
      }
      const state: ContainerTask = { child };
      tasks.set(name, state);

      let stderrTail = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        stderrTail = (stderrTail + chunk).slice(-2_000);
        chunk.split('\n').filter(Boolean).forEach(diag);
      });
      const relay = (async () => {
        // In batches: what the build wrote while the last publish was in flight goes out in one.
        for await (const frames of readPipeBatches(child.stdout!, { onMalformed: (line) => diag(`malformed event frame: ${line.slice(0, 200)}`) })) {
          const accepted = frames.filter((frame) => {
            const parsed = buildEventSchema.safeParse(safeJson(frame.value));
            if (parsed.success && parsed.data.deploymentId === task.deploymentId) return true;
            diag(`rejected event from build ${task.deploymentId}`);
            return false;
          });
          await publishFrames(options.eventBus, accepted);
        }
      })();

      child.once('close', async (code) => {
        await relay.catch((err) => diag(`event relay failed: ${String(err)}`));
        state.exit = { code, at: Date.now(), ...(code === 137 && !state.stopReason ? { oomKilled: /oom/i.test(stderrTail) } : {}) };
        for (const listener of listeners) listener(name);
      });
      return { taskId: name };
    },

    async stop(taskId, reason) {
      const task = tasks.get(taskId);
      if (task?.exit) return;
      if (task) task.stopReason = reason;
      // `kill` rather than `stop`: a canceled build has nothing to save; `--rm` removes it.
      const result = await engine(['kill', taskId]);
      if (result.code !== 0 && !/no such container|no container with name|not running/i.test(result.stderr)) {
        throw new Error(`${binary} kill ${taskId} failed: ${result.stderr.trim()}`);
      }
    },

    async describe(taskId): Promise<RunnerTaskState> {
      const task = tasks.get(taskId);
      if (task?.exit) {
        const { code, at } = task.exit;
        const reason = task.stopReason
          ? `stopped: ${task.stopReason}`
          : code === 137
            ? 'the build container was killed (exit code 137: SIGKILL, often the memory limit)'
            : code !== null && code >= 125 && code <= 127
              ? `${binary} could not run the build container (exit code ${code})`
              : `the build container exited with code ${code}`;
        return { state: 'stopped', ...(code !== null ? { exitCode: code } : {}), reason, stoppedAt: at };
      }
      if (task) return { state: 'running' };
      // Not started by this process: a container from before a restart, or nothing.
      const inspected = await engine(['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', taskId]);
      if (inspected.code !== 0) return { state: 'unknown' };
      const [status, exit] = inspected.stdout.trim().split(' ');
      if (status === 'running' || status === 'created' || status === 'configured' || status === 'paused') {
        // Its stdout went to a process that is gone: its events can never reach the platform.
        return { state: 'running', orphaned: true };
      }
      return { state: 'stopped', exitCode: Number(exit), reason: `the build container is ${status} (exit code ${exit})` };
    },

    onTaskEnded(listener) {
      listeners.push(listener);
    },

    async close() {
      // Containers outlive this process on purpose: the next start reconciles them. Only the
      // CLI processes that relay their output end with it.
      for (const task of tasks.values()) if (!task.exit) task.child.stdout?.destroy();
    },
  };
}

interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

/**
 * With a local-folder store the build needs that folder, but only its own part of it: its
 * deployment's prefix and its project's build cache, at the same paths as on the host. A
 * local git repository (embedded default) is mounted read-only.
 */
async function prepareMounts(task: BuildTask, user: string): Promise<Mount[]> {
  const mounts: Mount[] = [];
  const checked = (path: string) => {
    // `-v host:container:mode` has no escaping: a path with ':' or ',' would change the mount.
    if (/[:,\n]/.test(path)) throw new Error(`cannot mount ${JSON.stringify(path)} into a build container: the path contains ':' or ','`);
    return path;
  };
  if (task.storage.driver === 'local') {
    const [uid, gid] = user.split(':').map(Number);
    for (const dir of [join(task.storage.dir, 'deployments', task.deploymentId), join(task.storage.dir, 'build-cache', task.projectId)]) {
      await mkdir(dir, { recursive: true });
      if (process.getuid?.() === 0 && uid !== undefined) await chown(dir, uid, gid ?? uid);
      mounts.push({ host: checked(dir), container: dir, readOnly: false });
    }
  }
  if (task.allowLocalGit && isAbsolute(task.gitUrl)) mounts.push({ host: checked(task.gitUrl), container: task.gitUrl, readOnly: true });
  return mounts;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
