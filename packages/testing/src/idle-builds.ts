/**
 * Builds on the idle runner, finished by the test: the files a build would upload, then the
 * events it would send (a log line, BUILDING, then READY or ERROR), through the platform's
 * own bus, so the build-event writer, the route publisher and everything after them run as
 * in production.
 */
import { BUILD_EVENTS_TOPIC, type BuildEvent, type Deployment } from '@platform/contracts';
import type { Platform } from './platform.ts';
import { deploy, http } from './http.ts';
import { type FixtureFile, writeDeployment } from './proxy.ts';

export interface IdleBuildOptions {
  ref?: string;
  /** READY (the default) or ERROR. */
  outcome?: 'READY' | 'ERROR';
  /** The build output; READY only. Default: an index.html naming the deployment. */
  files?: Record<string, string | Buffer | FixtureFile>;
  /** Log lines the build prints. Default 3. */
  logLines?: number;
}

/** Deploys `ref` of the project on an idle-runner platform and finishes its build; resolves once the API shows the outcome. */
export async function idleBuild(platform: Platform, projectId: string, options: IdleBuildOptions = {}, api = platform.api): Promise<Deployment> {
  const deployment = await deploy(api, { projectId, ...(options.ref ? { ref: options.ref } : {}) });
  await waitForStatus(api, deployment.id, ['BUILDING', 'QUEUED'], () => true);
  // The scheduler must have launched it (its task id set) before its events mean anything.
  await waitUntil(async () => {
    const rows = await platform.db.query<{ task_id: string | null }>('SELECT task_id FROM deployments WHERE id = $1', [deployment.id]);
    return rows[0]?.task_id != null;
  });
  const outcome = options.outcome ?? 'READY';
  if (outcome === 'READY') await writeDeployment(platform.deps.store, deployment.id, options.files ?? { 'index.html': `<h1>${deployment.id}</h1>` });
  const base = { deploymentId: deployment.id, projectId, ts: Date.now() };
  const lines = options.logLines ?? 3;
  const events: BuildEvent[] = [
    { ...base, type: 'status', seq: 1, status: 'BUILDING' },
    ...Array.from(
      { length: lines },
      (_, i): BuildEvent => ({ ...base, type: 'log', seq: i + 2, stream: 'stdout', message: `build line ${i + 1} of ${deployment.id}` }),
    ),
    { ...base, type: 'status', seq: lines + 2, status: outcome, ...(outcome === 'ERROR' ? { detail: 'the test failed this build' } : {}) },
  ];
  await platform.deps.bus.publish(
    BUILD_EVENTS_TOPIC,
    events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })),
  );
  return waitForStatus(api, deployment.id, [outcome], (d) => d.status === outcome);
}

async function waitForStatus(api: string, id: string, statuses: string[], done: (d: Deployment) => boolean): Promise<Deployment> {
  let last: Deployment | undefined;
  await waitUntil(async () => {
    last = (await http<{ deployment: Deployment }>(api, 'GET', `/deployments/${id}`)).json?.deployment;
    return last !== undefined && statuses.includes(last.status) && done(last);
  });
  return last!;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('idle build: timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
