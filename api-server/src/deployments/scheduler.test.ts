import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILD_EVENTS_TOPIC, buildEventSchema, type BuildEvent, type BuildTaskRequest } from '@platform/contracts';
import { createPgliteDb, migrate, type Db } from '@platform/db';
import { createInProcessEventBus, deploymentEventKey, type EventBus } from '@platform/event-bus';
import type { UploadCredentialMinter, UploadScope } from '@platform/object-store';
import { createLogger } from '@platform/logger';
import { RunnerStartError, type Runner, type RunnerTaskState } from '@platform/runner';
import { ProjectsRepo } from '../projects/projects-repo.ts';
import { DeploymentLifecycle } from './deployment-lifecycle.ts';
import { DeploymentsRepo, type DeploymentRow } from './deployments-repo.ts';
import type { EventHistory } from './event-history.ts';
import { Reconciler } from './reconciler.ts';
import { presentDeployment } from './presenters.ts';
import { Scheduler, type SchedulerOptions } from './scheduler.ts';
import { Urls } from '../urls.ts';

// The scheduler and reconciler against a real PostgreSQL engine (PGlite), with a scripted
// in-memory Runner in place of processes or ECS: these tests are about which deployment is
// launched when and how each ends, not about any runner (those have their own tests).

class ScriptedRunner implements Runner {
  readonly name = 'scripted';
  readonly isolation = { singleUser: false, summary: 'scripted', problems: [] };
  started: BuildTaskRequest[] = [];
  stopped: { taskId: string; reason: string }[] = [];
  states = new Map<string, RunnerTaskState>();
  /** Errors the next start() calls throw, in order. */
  startErrors: Error[] = [];
  /** Scratch folders of ended builds the next sweep finds, and how many sweeps ran. */
  leftovers: string[] = [];
  sweeps = 0;
  private listeners: ((taskId: string) => void)[] = [];

  async start(task: BuildTaskRequest) {
    const error = this.startErrors.shift();
    if (error) throw error;
    this.started.push(task);
    const taskId = `task-${task.deploymentId}`;
    this.states.set(taskId, { state: 'running' });
    return { taskId };
  }
  async stop(taskId: string, reason: string) {
    this.stopped.push({ taskId, reason });
    this.end(taskId, { state: 'stopped', exitCode: 143, reason: `stopped: ${reason}`, stoppedAt: Date.now() });
  }
  async describe(taskId: string) {
    return this.states.get(taskId) ?? { state: 'unknown' as const };
  }
  onTaskEnded(listener: (taskId: string) => void) {
    this.listeners.push(listener);
  }
  end(taskId: string, state: RunnerTaskState) {
    this.states.set(taskId, state);
    for (const l of this.listeners) l(taskId);
  }
  /** Deployment ids the sweep asks about, and what the platform answered. */
  askFinished: string[] = [];
  finished: string[] = [];
  async sweepScratch(finished?: (ids: string[]) => Promise<string[]>) {
    this.sweeps++;
    if (finished) this.finished = await finished(this.askFinished);
    return this.leftovers.splice(0);
  }
  async close() {}
}

let db: Db;
let deployments: DeploymentsRepo;
let projects: ProjectsRepo;
let bus: EventBus;
let events: BuildEvent[];
let runner: ScriptedRunner;
const logger = createLogger({ level: 'silent' });
const history: EventHistory = {
  async summary(id) {
    const mine = events.filter((e) => e.deploymentId === id);
    return {
      maxSeq: Math.max(0, ...mine.map((e) => e.seq)),
      terminal: mine.some((e) => e.type === 'status' && ['READY', 'ERROR', 'CANCELED'].includes(e.status)),
    };
  },
};

beforeAll(async () => {
  db = await createPgliteDb();
  await migrate(db);
  deployments = new DeploymentsRepo(db);
  projects = new ProjectsRepo(db);
  bus = createInProcessEventBus();
  await bus.subscribe(BUILD_EVENTS_TOPIC, { groupId: 'test' }, async (messages) => {
    for (const m of messages) events.push(buildEventSchema.parse(JSON.parse(m.value)));
  });
});
afterAll(async () => {
  await bus?.close();
  await db?.close();
});
// Every test's scheduler and reconciler stop with it: a late pass must not touch the next test's rows.
let made: { scheduler: Scheduler; reconciler: Reconciler; lifecycle: DeploymentLifecycle }[] = [];
afterEach(async () => {
  for (const m of made) {
    await m.scheduler.stop();
    await m.reconciler.stop();
  }
  made = [];
});
beforeEach(async () => {
  events = [];
  runner = new ScriptedRunner();
  // Each test starts with no unfinished deployment from an earlier one.
  await db.query(`UPDATE deployments SET status = 'CANCELED', pending_notice = NULL WHERE status IN ('QUEUED', 'BUILDING')`);
});

function make(
  options: {
    global?: number;
    perProject?: number;
    settleMs?: number;
    timeoutMs?: number;
    attempts?: number;
    retryMs?: number;
    lowDisk?: SchedulerOptions['lowDisk'];
    uploadCredentials?: UploadCredentialMinter;
    eventSigningSecret?: string;
    storage?: SchedulerOptions['taskSettings']['storage'];
  } = {},
) {
  let scheduler: Scheduler | undefined;
  const lifecycle = new DeploymentLifecycle({ deployments, runner, bus, history, logger, onFinished: () => scheduler?.kick() });
  const reconciler = new Reconciler(
    { deployments, runner, history, lifecycle, logger },
    { intervalMs: 60_000, settleMs: options.settleMs ?? 0, launchStaleMs: 60_000, buildTimeoutMs: options.timeoutMs ?? 60_000, timeoutGraceMs: 0 },
  );
  scheduler = new Scheduler(
    { deployments, projects, runner, lifecycle, logger, ...(options.uploadCredentials ? { uploadCredentials: options.uploadCredentials } : {}) },
    {
      ...(options.eventSigningSecret ? { eventSigningSecret: options.eventSigningSecret } : {}),
      maxConcurrentBuilds: options.global ?? 2,
      maxConcurrentBuildsPerProject: options.perProject ?? options.global ?? 2,
      taskSettings: {
        storage: options.storage ?? { driver: 'local', dir: '/tmp/unused' },
        transport: { driver: 'pipe' },
        timeoutMs: options.timeoutMs ?? 60_000,
      },
      maxLaunchAttempts: options.attempts ?? 3,
      retryBaseDelayMs: options.retryMs ?? 20,
      maxRetryDelayMs: (options.retryMs ?? 20) * 2,
      ...(options.lowDisk ? { lowDisk: options.lowDisk } : {}),
    },
  );
  made.push({ scheduler, reconciler, lifecycle });
  return { scheduler, reconciler, lifecycle };
}

async function project(name: string) {
  return projects.create({ name: `${name}-${Math.random().toString(36).slice(2, 8)}`, gitUrl: 'https://example.com/a/b.git' } as never);
}
async function queue(projectId: string, ref = 'main'): Promise<DeploymentRow> {
  const row = await deployments.create({ projectId, target: ref === 'main' ? 'production' : 'preview', ref, commit: null });
  await sleep(2); // distinct created_at, so "oldest first" is observable
  return row;
}
async function status(id: string) {
  return (await deployments.get(id))!;
}
/** What a build itself would report; the consumer applies it the same way. */
async function reportStatus(row: DeploymentRow, s: 'BUILDING' | 'READY', seq: number) {
  const event = { type: 'status' as const, deploymentId: row.id, projectId: row.project_id, seq, ts: Date.now(), status: s };
  events.push(event);
  await deployments.applyStatusEvent(event);
}

describe('scheduler: launching', () => {
  it('launches oldest first up to the global limit, and more as builds end', async () => {
    const { scheduler } = make({ global: 2 });
    const a = await project('a');
    const b = await project('b');
    const d1 = await queue(a.id, 'one');
    const d2 = await queue(b.id, 'two');
    const d3 = await queue(a.id, 'three');
    await scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([d1.id, d2.id]);
    expect((await status(d3.id)).launched_at).toBeNull();

    await reportStatus(d1, 'BUILDING', 1);
    await reportStatus(d1, 'READY', 2);
    await scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([d1.id, d2.id, d3.id]);
    expect(runner.started[2]).toMatchObject({ projectId: a.id, gitRef: 'three', gitUrl: 'https://example.com/a/b.git' });
  });

  it('holds a project to its own limit while other projects use free slots', async () => {
    const { scheduler } = make({ global: 3, perProject: 1 });
    const busy = await project('busy');
    const other = await project('other');
    const b1 = await queue(busy.id, 'x');
    const b2 = await queue(busy.id, 'y');
    const o1 = await queue(other.id, 'z');
    await scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([b1.id, o1.id]);
    expect((await status(b2.id)).launched_at).toBeNull();
  });

  it('cancels queued deployments of a branch that a newer one supersedes, with the reason in the log', async () => {
    const { scheduler } = make({ global: 1 });
    const p = await project('sup');
    const blocker = await queue(p.id, 'other');
    const old1 = await queue(p.id, 'feature');
    const old2 = await queue(p.id, 'feature');
    const newest = await queue(p.id, 'feature');
    await scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([blocker.id]);
    for (const old of [old1, old2]) {
      const row = await status(old.id);
      expect(row.status).toBe('CANCELED');
      expect(row.error_message).toBe(`superseded by a newer deployment of feature (${newest.id}) before it started`);
      // Never launched: the notice is on its stream at once, as seq 1 and 2.
      expect(events.filter((e) => e.deploymentId === old.id)).toEqual([
        expect.objectContaining({ type: 'log', seq: 1, stream: 'system', message: row.error_message }),
        expect.objectContaining({ type: 'status', seq: 2, status: 'CANCELED' }),
      ]);
    }
    expect((await status(newest.id)).status).toBe('QUEUED');
  });
});

describe('scheduler: failed launches', () => {
  it('retries a launch that failed for lack of capacity, with backoff, then starts it', async () => {
    const { scheduler } = make({ global: 1, attempts: 3, retryMs: 400 });
    const p = await project('retry');
    const d = await queue(p.id);
    runner.startErrors.push(new RunnerStartError('ECS RunTask started no task: RESOURCE:MEMORY', true));
    await scheduler.runPass();
    const waiting = await status(d.id);
    expect(waiting).toMatchObject({ status: 'QUEUED', launched_at: null, launch_attempts: 1, launch_error: 'ECS RunTask started no task: RESOURCE:MEMORY' });
    const [due] = await db.query<{ wait_ms: number }>('SELECT extract(epoch FROM next_launch_at - now()) * 1000 AS wait_ms FROM deployments WHERE id = $1', [
      d.id,
    ]);
    // 400 ms, ±25 % jitter.
    expect(Number(due!.wait_ms)).toBeGreaterThan(150);
    expect(Number(due!.wait_ms)).toBeLessThanOrEqual(500);
    // Not due yet: an immediate pass launches nothing.
    await scheduler.runPass();
    expect(runner.started).toHaveLength(0);
    await sleep(550);
    await scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([d.id]);
    expect((await status(d.id)).launch_attempts).toBe(2);
  });

  it('ends in ERROR with the reason after the last retryable attempt, and at once for a non-retryable failure', async () => {
    const { scheduler } = make({ global: 1, attempts: 2 });
    const p = await project('fail');
    const d = await queue(p.id);
    runner.startErrors.push(
      new RunnerStartError('ECS RunTask failed: ThrottlingException: Rate exceeded', true),
      new RunnerStartError('ECS RunTask failed: ThrottlingException: Rate exceeded', true),
    );
    await scheduler.runPass();
    await sleep(80);
    await scheduler.runPass();
    const failed = await status(d.id);
    expect(failed.status).toBe('ERROR');
    expect(failed.error_message).toBe('could not start the build after 2 attempts: ECS RunTask failed: ThrottlingException: Rate exceeded');
    expect(events.filter((e) => e.deploymentId === d.id)).toEqual([
      expect.objectContaining({ type: 'log', seq: 1, stream: 'system', message: failed.error_message }),
      expect.objectContaining({ type: 'status', seq: 2, status: 'ERROR', detail: failed.error_message }),
    ]);

    const d2 = await queue(p.id);
    runner.startErrors.push(new RunnerStartError('ECS RunTask failed: AccessDeniedException: not authorized to perform ecs:RunTask', false));
    await scheduler.runPass();
    expect(await status(d2.id)).toMatchObject({
      status: 'ERROR',
      error_message: 'could not start the build: ECS RunTask failed: AccessDeniedException: not authorized to perform ecs:RunTask',
    });
  });
});

describe('scheduler: what a task carries of its own', () => {
  const s3 = { driver: 's3' as const, bucket: 'b', region: 'us-east-1', forcePathStyle: false };

  it("mints each S3 build's upload credentials for its deployment and timeout, and derives its signing key", async () => {
    const asked: UploadScope[] = [];
    const minter: UploadCredentialMinter = {
      mint: async (scope) => {
        asked.push(scope);
        return { accessKeyId: `ASIA${scope.deploymentId}`, secretAccessKey: 'minted', sessionToken: 'session', expiresAt: Date.now() + 60_000 };
      },
      close() {},
    };
    const { scheduler } = make({ uploadCredentials: minter, storage: s3, timeoutMs: 120_000, eventSigningSecret: 's'.repeat(40) });
    const p = await project('mint');
    const d = await queue(p.id);
    await scheduler.runPass();
    expect(asked).toEqual([{ deploymentId: d.id, projectId: p.id, validForMs: 120_000 }]);
    const task = runner.started.find((t) => t.deploymentId === d.id)!;
    expect(task.storage).toEqual({ ...s3, credentials: { accessKeyId: `ASIA${d.id}`, secretAccessKey: 'minted', sessionToken: 'session' } });
    expect(task.eventSigningKey).toBe(deploymentEventKey('s'.repeat(40), { deploymentId: d.id, projectId: p.id }));
  });

  it('retries a launch whose credentials STS could not mint for now, and ends it when STS refuses', async () => {
    const failures = [Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } })];
    const minter: UploadCredentialMinter = {
      mint: async () => {
        const err = failures.shift();
        if (err) throw err;
        throw Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      },
      close() {},
    };
    const { scheduler } = make({ uploadCredentials: minter, storage: s3 });
    const d = await queue((await project('sts')).id);
    await scheduler.runPass();
    expect((await deployments.get(d.id))?.launch_error).toMatch(/could not mint the build's upload credentials: Throttling/);
    await sleep(60);
    await scheduler.runPass();
    const ended = await deployments.get(d.id);
    expect(ended?.status).toBe('ERROR');
    expect(ended?.error_message).toMatch(/AccessDenied/);
    expect(runner.started.some((t) => t.deploymentId === d.id)).toBe(false);
  });
});

describe('reconciler: builds that end without a result', () => {
  it('ends a deployment whose task stopped without a terminal event in ERROR, logging why after the build’s last event', async () => {
    const { scheduler, reconciler } = make({ global: 1 });
    const p = await project('oom');
    const d = await queue(p.id);
    await scheduler.runPass();
    await reportStatus(d, 'BUILDING', 1);
    for (let seq = 2; seq <= 7; seq++)
      events.push({ type: 'log', deploymentId: d.id, projectId: p.id, seq, ts: Date.now(), stream: 'stdout', message: `line ${seq}` });
    runner.end(`task-${d.id}`, {
      state: 'stopped',
      exitCode: 137,
      reason: 'OutOfMemoryError: Container killed due to memory usage; exit code 137: the container was killed',
      stoppedAt: Date.now(),
    });
    await reconciler.runPass();
    const row = await status(d.id);
    expect(row.status).toBe('ERROR');
    expect(row.error_message).toBe(
      'the build ended without reporting a result: OutOfMemoryError: Container killed due to memory usage; exit code 137: the container was killed',
    );
    expect(events.filter((e) => e.deploymentId === d.id && e.seq > 7)).toEqual([
      expect.objectContaining({ type: 'log', seq: 8, stream: 'system', message: row.error_message }),
      expect.objectContaining({ type: 'status', seq: 9, status: 'ERROR' }),
    ]);
    expect(row.last_event_seq).toBe(9);
    expect(row.pending_notice).toBeNull();
  });

  it('leaves a stopped task alone while its own terminal event is still on its way', async () => {
    const { scheduler, reconciler } = make({ global: 1, settleMs: 60_000 });
    const p = await project('settle');
    const d = await queue(p.id);
    await scheduler.runPass();
    runner.end(`task-${d.id}`, { state: 'stopped', exitCode: 0, stoppedAt: Date.now() });
    await reconciler.runPass();
    expect((await status(d.id)).status).toBe('QUEUED');
    // The event arrives: nothing for the reconciler to do, ever.
    await reportStatus(d, 'READY', 1);
    await reconciler.runPass();
    expect((await status(d.id)).status).toBe('READY');
  });

  it('stops a build past its timeout and ends it in ERROR', async () => {
    const { scheduler, reconciler } = make({ global: 1, timeoutMs: 50 });
    const p = await project('slow');
    const d = await queue(p.id);
    await scheduler.runPass();
    await reportStatus(d, 'BUILDING', 1);
    await sleep(80);
    await reconciler.runPass();
    expect(await status(d.id)).toMatchObject({ status: 'ERROR', error_message: 'the build exceeded its timeout of 0 s and was stopped' });
    expect(runner.stopped).toEqual([{ taskId: `task-${d.id}`, reason: 'the build exceeded its timeout of 0 s and was stopped' }]);
    // The stop has taken effect: the notice follows the build's last event.
    await reconciler.runPass();
    expect(events.filter((e) => e.deploymentId === d.id).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('stops an orphaned task (its output unreachable after a restart) and ends it in ERROR', async () => {
    const { scheduler, reconciler } = make({ global: 1 });
    const p = await project('orphan');
    const d = await queue(p.id);
    await scheduler.runPass();
    runner.states.set(`task-${d.id}`, { state: 'running', orphaned: true });
    await reconciler.runPass();
    expect((await status(d.id)).status).toBe('ERROR');
    expect((await status(d.id)).error_message).toContain('the platform restarted while it ran');
    expect(runner.stopped.map((s) => s.taskId)).toEqual([`task-${d.id}`]);
  });
});

describe('scheduler: low disk space', () => {
  it('launches nothing while the build disk is under its floor, says why on the waiting deployments, and resumes when space is back', async () => {
    let free = 200 * 1024 ** 2;
    const { scheduler } = make({ global: 2, lowDisk: { minFreeBytes: 1024 ** 3, freeBytes: async () => free } });
    const p = await project('disk');
    const d1 = await queue(p.id, 'one');
    const d2 = await queue(p.id, 'two');
    await scheduler.runPass();
    expect(runner.started).toEqual([]);
    const urls = new Urls({ rootDomain: 'localhost', scheme: 'http', port: 80 });
    for (const d of [d1, d2]) {
      const row = await status(d.id);
      expect(row.status).toBe('QUEUED');
      expect(presentDeployment(row, p, urls).waitingReason).toBe(
        'waiting for disk space: builds are paused while the build disk has 200 MiB free, less than the 1.0 GiB the platform keeps free (BUILD_MIN_FREE_DISK)',
      );
    }
    // A deployment queued during the pause says so too.
    const d3 = await queue(p.id, 'three');
    await scheduler.runPass();
    expect(runner.started).toEqual([]);
    expect((await status(d3.id)).launch_error).toMatch(/^waiting for disk space:/);

    free = 5 * 1024 ** 3;
    await scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([d1.id, d2.id]);
    const waiting = await status(d3.id);
    expect(waiting.launch_error).toBeNull();
    expect(presentDeployment(waiting, p, urls)).not.toHaveProperty('waitingReason');
  });

  it('launches as before when the probe fails or the floor is 0', async () => {
    const failing = make({ global: 1, lowDisk: { minFreeBytes: 1024 ** 3, freeBytes: async () => Promise.reject(new Error('statfs failed')) } });
    const p = await project('probe');
    const d = await queue(p.id);
    await failing.scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([d.id]);
    const off = make({ global: 2, lowDisk: { minFreeBytes: 0, freeBytes: async () => 0 } });
    const e = await queue(p.id, 'other');
    await off.scheduler.runPass();
    expect(runner.started.map((t) => t.deploymentId)).toEqual([d.id, e.id]);
  });
});

describe('reconciler: scratch space of builds that no longer run', () => {
  it('sweeps at start, before any interval, and on every pass after', async () => {
    const { reconciler } = make();
    runner.leftovers.push('dplleftover1');
    await reconciler.start();
    expect(runner.sweeps).toBe(1);
    expect(runner.leftovers).toEqual([]);
    await reconciler.runPass();
    expect(runner.sweeps).toBe(2);
  });

  it('tells the sweep which deployments have ended, so it removes only their folders where others keep theirs', async () => {
    const { scheduler, reconciler } = make({ global: 1 });
    const p = await project('ended');
    const done = await queue(p.id, 'done');
    const waiting = await queue(p.id, 'waiting');
    await scheduler.runPass();
    await reportStatus(done, 'BUILDING', 1);
    await reportStatus(done, 'READY', 2);
    runner.askFinished = [done.id, waiting.id, 'dplnotours'];
    await reconciler.runPass();
    expect(runner.finished).toEqual([done.id]);
  });
});

describe('cancel and stale launches', () => {
  it('cancels a queued deployment at once and a running one by stopping its task', async () => {
    const { scheduler, reconciler, lifecycle } = make({ global: 1 });
    const p = await project('cancel');
    const running = await queue(p.id, 'a');
    const queued = await queue(p.id, 'b');
    await scheduler.runPass();
    await reportStatus(running, 'BUILDING', 1);

    expect(await lifecycle.cancel(queued.id, 'canceled by the user')).toBe(true);
    expect(await status(queued.id)).toMatchObject({ status: 'CANCELED', error_message: 'canceled by the user' });

    expect(await lifecycle.cancel(running.id, 'canceled by the user')).toBe(true);
    expect(await status(running.id)).toMatchObject({ status: 'CANCELED' });
    expect(runner.stopped).toEqual([{ taskId: `task-${running.id}`, reason: 'canceled by the user' }]);
    await reconciler.runPass();
    expect(events.filter((e) => e.deploymentId === running.id && e.type === 'status').map((e) => [e.seq, (e as { status: string }).status])).toEqual([
      [1, 'BUILDING'],
      [3, 'CANCELED'],
    ]);
    // Already ended: nothing to cancel.
    expect(await lifecycle.cancel(running.id, 'again')).toBe(false);
  });

  it('requeues a deployment claimed by a launcher that died before recording its task', async () => {
    const { reconciler } = make();
    const p = await project('stale');
    const d = await queue(p.id);
    await db.query(`UPDATE deployments SET launched_at = now() - interval '2 minutes' WHERE id = $1`, [d.id]);
    await reconciler.runPass();
    expect(await status(d.id)).toMatchObject({ status: 'QUEUED', launched_at: null });
  });
});
