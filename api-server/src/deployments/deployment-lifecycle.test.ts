import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_EVENTS_TOPIC, buildEventSchema, type BuildEvent } from '@platform/contracts';
import { createPgliteDb, migrate, type Db } from '@platform/db';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { ProjectsRepo } from '../projects/projects-repo.ts';
import { DeploymentLifecycle, noticeEvents } from './deployment-lifecycle.ts';
import { DeploymentsRepo, type DeploymentRow } from './deployments-repo.ts';
import type { EventHistory } from './event-history.ts';

// Against a real PostgreSQL engine (PGlite) and the in-process bus; only the runner is a
// recorder, since these tests are about what the lifecycle asks of it.

describe('noticeEvents', () => {
  it('is a system log line and then the status, numbered from seq, both carrying the reason', () => {
    const row = { id: 'd1', project_id: 'p1', status: 'CANCELED' as const, pending_notice: 'canceled by a@b.c' };
    expect(noticeEvents(row, 7, 1_000)).toEqual([
      { deploymentId: 'd1', projectId: 'p1', ts: 1_000, type: 'log', seq: 7, stream: 'system', message: 'canceled by a@b.c' },
      { deploymentId: 'd1', projectId: 'p1', ts: 1_000, type: 'status', seq: 8, status: 'CANCELED', detail: 'canceled by a@b.c' },
    ]);
  });
});

let db: Db;
let bus: EventBus;
let deployments: DeploymentsRepo;
let projectId: string;
let events: BuildEvent[];
let stopped: { taskId: string; reason: string }[];
let finished: DeploymentRow[];
let lifecycle: DeploymentLifecycle;
const history: EventHistory = {
  async summary(id) {
    const mine = events.filter((e) => e.deploymentId === id);
    return { maxSeq: Math.max(0, ...mine.map((e) => e.seq)), terminal: false };
  },
};

beforeAll(async () => {
  db = await createPgliteDb();
  await migrate(db);
  deployments = new DeploymentsRepo(db);
  projectId = (await new ProjectsRepo(db).create({ name: `lifecycle-${Date.now()}`, gitUrl: 'https://example.com/a/b.git' } as never)).id;
  bus = createInProcessEventBus();
  await bus.subscribe(BUILD_EVENTS_TOPIC, { groupId: 'test' }, async (messages) => {
    for (const m of messages) events.push(buildEventSchema.parse(JSON.parse(m.value)));
  });
});
afterAll(async () => {
  await bus?.close();
  await db?.close();
});
beforeEach(() => {
  events = [];
  stopped = [];
  finished = [];
  const runner = { stop: async (taskId: string, reason: string) => void stopped.push({ taskId, reason }) };
  lifecycle = new DeploymentLifecycle({
    deployments,
    runner,
    bus,
    history,
    logger: createLogger({ level: 'silent' }),
    onFinished: (row) => finished.push(row),
  });
});

const queued = () => deployments.create({ projectId, target: 'preview', ref: 'main', commit: null });
/** Claimed and given a task, as the scheduler leaves a launched deployment. */
async function launched(): Promise<DeploymentRow> {
  const row = await queued();
  await db.query('UPDATE deployments SET launched_at = now(), task_id = $2 WHERE id = $1', [row.id, `task-${row.id}`]);
  return (await deployments.get(row.id))!;
}
const waitForEvents = async (n: number) => {
  for (let i = 0; i < 100 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
};

describe('DeploymentLifecycle', () => {
  it('ends a deployment that never launched and closes its stream at once', async () => {
    const row = await queued();
    const ended = await lifecycle.finish(row, 'CANCELED', 'superseded');
    expect(ended).toMatchObject({ status: 'CANCELED', error_message: 'superseded' });
    await waitForEvents(2);
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ['log', 1],
      ['status', 2],
    ]);
    expect(await deployments.get(row.id)).toMatchObject({ pending_notice: null, last_event_seq: 2 });
    expect(finished.map((r) => r.id)).toEqual([row.id]);
  });

  it('keeps the notice of a launched build pending until its task has stopped', async () => {
    const row = await launched();
    await lifecycle.finish(row, 'ERROR', 'timed out');
    expect(events).toEqual([]);
    expect(await deployments.get(row.id)).toMatchObject({ status: 'ERROR', pending_notice: 'timed out' });
  });

  it('appends the notice after the last event the build sent', async () => {
    const row = await launched();
    events.push({ type: 'log', deploymentId: row.id, projectId, seq: 5, ts: 0, stream: 'stdout', message: 'x' });
    const ended = (await lifecycle.finish(row, 'ERROR', 'task died'))!;
    await lifecycle.appendNoticeOrRetryLater(ended);
    await waitForEvents(3);
    expect(events.slice(1).map((e) => e.seq)).toEqual([6, 7]);
  });
});

describe('DeploymentLifecycle cancel and stop', () => {
  it('cancels by ending the row and stopping the task; a second cancel finds nothing to do', async () => {
    const row = await launched();
    expect(await lifecycle.cancel(row.id, 'canceled by the user')).toBe(true);
    expect(stopped).toEqual([{ taskId: `task-${row.id}`, reason: 'canceled by the user' }]);
    expect(await lifecycle.cancel(row.id, 'again')).toBe(false);
    expect(await lifecycle.cancel('no-such-deployment', 'x')).toBe(false);
    expect(finished).toHaveLength(1);
  });

  it('stopAndFail ends the build in ERROR and stops its task', async () => {
    const row = await launched();
    await lifecycle.stopAndFail(row, 'orphaned');
    expect((await deployments.get(row.id))!.status).toBe('ERROR');
    expect(stopped).toEqual([{ taskId: `task-${row.id}`, reason: 'orphaned' }]);
  });
});
