import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILD_EVENTS_TOPIC,
  buildEventSchema,
  encodeBuildTaskEnv,
  isTerminalStatus,
  type BuildEvent,
  type BuildTask,
} from '@platform/contracts';
import { readPipeMessages, type EventBus } from '@platform/event-bus';
import type { Runner, RunnerTaskState } from './runner.ts';

export interface LocalRunnerOptions {
  /** argv that starts the build-server entry point, e.g. `[node, --import, tsx, main.ts]`. */
  command: readonly string[];
  /** Where the events the child writes on its pipe are republished. */
  eventBus: EventBus;
  /** Extra time past the task's own timeout before the runner kills the process tree. */
  killGraceMs?: number;
  /** Variables the child may inherit from this process (nothing else is passed). */
  inheritEnv?: readonly string[];
  onDiagnostic?: (line: string) => void;
}

interface LocalTask {
  child: ChildProcess;
  deploymentId: string;
  projectId: string;
  lastSeq: number;
  terminal: boolean;
  stopReason?: string;
  timedOut?: boolean;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/**
 * The embedded runner: each build is a child process running the build-server entry point,
 * in its own process group (so a kill takes its whole tree), with a scrubbed environment
 * that holds the build task and nothing of this process's secrets. Events come back over
 * fd 3 and are republished on the bus; when the child dies without a terminal status, the
 * runner emits one, continuing the deployment's seq, so no deployment stays BUILDING.
 */
export function createLocalRunner(options: LocalRunnerOptions): Runner {
  const [program, ...baseArgs] = options.command;
  if (!program) throw new Error('local runner needs a command');
  const tasks = new Map<string, LocalTask>();
  const inherit = options.inheritEnv ?? ['PATH', 'LANG', 'TZ'];
  const killGraceMs = options.killGraceMs ?? 30_000;

  const publish = (events: BuildEvent[]) =>
    options.eventBus.publish(
      BUILD_EVENTS_TOPIC,
      events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })),
    );

  const killTree = (child: ChildProcess, signal: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };

  return {
    name: 'local',

    async start(task: BuildTask) {
      const workDir = await mkdtemp(join(tmpdir(), `build-${task.deploymentId}-`));
      const env: Record<string, string> = { HOME: workDir, ...encodeBuildTaskEnv(task) };
      for (const name of inherit) {
        const value = process.env[name];
        if (value !== undefined) env[name] = value;
      }
      const child = spawn(program, [...baseArgs], {
        cwd: workDir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        shell: false,
      });
      const state: LocalTask = {
        child,
        deploymentId: task.deploymentId,
        projectId: task.projectId,
        lastSeq: 0,
        terminal: false,
      };
      const taskId = `local-${child.pid ?? task.deploymentId}-${task.deploymentId}`;
      tasks.set(taskId, state);

      const diag = options.onDiagnostic ?? (() => {});
      for (const stream of [child.stdout, child.stderr]) {
        stream?.setEncoding('utf8');
        stream?.on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(diag));
      }

      const deadline = setTimeout(() => {
        state.timedOut = true;
        killTree(child, 'SIGKILL');
      }, (buildTaskTimeout(task) + killGraceMs));
      deadline.unref();

      const pipe = child.stdio[3] as NodeJS.ReadableStream & import('node:stream').Readable;
      const relay = (async () => {
        for await (const frame of readPipeMessages(pipe, (line) => diag(`malformed event frame: ${line.slice(0, 200)}`))) {
          const parsed = buildEventSchema.safeParse(JSON.parse(frame.value));
          if (!parsed.success || parsed.data.deploymentId !== task.deploymentId) {
            diag(`rejected event from build ${task.deploymentId}`);
            continue;
          }
          const event = parsed.data;
          state.lastSeq = Math.max(state.lastSeq, event.seq);
          if (event.type === 'status' && isTerminalStatus(event.status)) state.terminal = true;
          await options.eventBus.publish(frame.topic, [{ key: frame.key, value: frame.value }]);
        }
      })();

      child.once('close', async (code, signal) => {
        clearTimeout(deadline);
        state.exit = { code, signal };
        await relay.catch((err) => diag(`event relay failed: ${String(err)}`));
        if (!state.terminal) {
          const ts = Date.now();
          const base = { deploymentId: state.deploymentId, projectId: state.projectId, ts };
          const canceled = state.stopReason !== undefined;
          const why = canceled
            ? `build stopped: ${state.stopReason}`
            : state.timedOut
              ? `build exceeded its timeout of ${Math.round(buildTaskTimeout(task) / 1000)} s and was killed`
              : signal
              ? `build process was killed by ${signal}`
              : `build process exited with code ${code} before reporting a result`;
          await publish([
            { ...base, type: 'log', seq: state.lastSeq + 1, stream: 'system', message: why },
            { ...base, type: 'status', seq: state.lastSeq + 2, status: canceled ? 'CANCELED' : 'ERROR', detail: why },
          ]).catch((err) => diag(`could not publish final status: ${String(err)}`));
          state.terminal = true;
        }
        await rm(workDir, { recursive: true, force: true }).catch(() => {});
      });

      return { taskId };
    },

    async stop(taskId, reason) {
      const task = tasks.get(taskId);
      if (!task || task.exit) return;
      task.stopReason = reason;
      killTree(task.child, 'SIGTERM');
      const hard = setTimeout(() => killTree(task.child, 'SIGKILL'), 5_000);
      hard.unref();
      task.child.once('close', () => clearTimeout(hard));
    },

    async describe(taskId): Promise<RunnerTaskState> {
      const task = tasks.get(taskId);
      if (!task) return { state: 'unknown' };
      if (!task.exit) return { state: 'running' };
      return {
        state: 'stopped',
        ...(task.exit.code !== null ? { exitCode: task.exit.code } : {}),
        ...(task.exit.signal ? { reason: `killed by ${task.exit.signal}` } : {}),
      };
    },

    async close() {
      const running = [...tasks.values()].filter((t) => !t.exit);
      await Promise.all(
        running.map(
          (t) =>
            new Promise<void>((resolve) => {
              t.stopReason = 'platform shutting down';
              t.child.once('close', () => resolve());
              killTree(t.child, 'SIGKILL');
            }),
        ),
      );
    },
  };
}

function buildTaskTimeout(task: BuildTask): number {
  return task.timeoutMs ?? 15 * 60_000;
}
