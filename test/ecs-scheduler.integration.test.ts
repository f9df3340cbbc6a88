import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOptionsFrom, createApiServer, createEmbeddedDrivers, loadApiConfig, type ApiDeps, type ApiServer } from '@platform/api-server';
import { createLogger } from '@platform/logger';
import { createEcsRunner } from '@platform/runner';
import { MOTO_CREDENTIALS, prepareEcs, startMoto } from '@platform/testing/moto';
import { http, setDefaultToken, signUpDefaultUser, waitForDeployment } from '@platform/testing/http';

// The scheduler and reconciler driving ECS tasks, with moto in server mode as the ECS API
// (ECS_ENDPOINT, or a moto_server started here). Moto starts no containers: a task "runs"
// until it is stopped, so the build never reports, which is exactly the case the reconciler
// exists for. The rest of the platform is the embedded default.

describe('scheduler and reconciler on ECS (moto)', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let ecsEnv: Awaited<ReturnType<typeof prepareEcs>>;
  let deps: ApiDeps;
  let api: ApiServer;
  let base = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-ecs-'));
  const config = loadApiConfig({
    PATH: process.env.PATH ?? '',
    DATA_DIR: dataDir,
    API_PORT: '0',
    PROXY_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RECONCILE_INTERVAL_MS: '500',
    RECONCILE_SETTLE_MS: '500',
    ALLOW_LOCAL_GIT: 'true',
    LOCAL_GIT_ROOTS: tmpdir(),
  });

  let token: string | undefined;
  async function startApi() {
    api = await createApiServer(deps, apiOptionsFrom(config));
    base = `http://127.0.0.1:${await api.listen(0)}`;
    // One user for the whole file; the token outlives a restart (the key is under DATA_DIR).
    if (token) setDefaultToken(base, token);
    else token = await signUpDefaultUser(base);
  }

  beforeAll(async () => {
    moto = await startMoto(process.env);
    ecsEnv = await prepareEcs(moto.endpoint);
    const embedded = await createEmbeddedDrivers(config, createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
    await embedded.runner.close();
    deps = {
      ...embedded,
      runner: createEcsRunner({
        client: { region: 'us-east-1', endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS },
        cluster: ecsEnv.cluster,
        taskDefinition: ecsEnv.taskDefinitionArn,
        containerName: 'build-server',
        subnets: [ecsEnv.subnet],
        securityGroups: [ecsEnv.securityGroup],
      }),
    };
    await startApi();
  });
  afterAll(async () => {
    await api?.close();
    await deps?.runner.close();
    await deps?.bus.close();
    await deps?.clickhouse.close();
    await deps?.db.close();
    moto?.stop();
    ecsEnv?.ecs.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function deploy(name: string): Promise<string> {
    const project = await http(base, 'POST', '/project', { name, gitUrl: 'https://github.com/example/site.git' });
    const created = await http(base, 'POST', '/deploy', { projectId: project.json.project.id });
    return created.json.deployment.id as string;
  }
  async function taskArnOf(id: string): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const [row] = await deps.db.query<{ task_id: string | null }>('SELECT task_id FROM deployments WHERE id = $1', [id]);
      if (row?.task_id) return row.task_id;
      await sleep(100);
    }
    throw new Error(`deployment ${id} was never launched`);
  }
  async function lastLogLine(id: string) {
    let last: { stream: string; message: string } | undefined;
    for (let i = 0; i < 100; i++) {
      last = (await http(base, 'GET', `/deployments/${id}/logs`)).json.lines.at(-1);
      if (last?.stream === 'system') break;
      await sleep(100);
    }
    return last;
  }

  it('ends a deployment whose task stopped without reporting in ERROR, with ECS’s stoppedReason', async () => {
    const id = await deploy('ecs-dies');
    const arn = await taskArnOf(id);
    expect((await http(base, 'GET', `/deployments/${id}`)).json.deployment.status).toBe('QUEUED');
    // The task dies on its own (as an OOM kill or a failed image pull would end it). moto
    // reports exit code 0 for every container of a stopped task.
    await ecsEnv.stopTask(arn, 'Essential container in task exited');
    const done = await waitForDeployment(base, id, 30_000);
    expect(done.status).toBe('ERROR');
    expect(done.errorMessage).toBe('the build ended without reporting a result: Essential container in task exited, exit code 0');
    expect(await lastLogLine(id)).toMatchObject({ stream: 'system', message: done.errorMessage });
  });

  it('cancels a deployment by stopping its ECS task', async () => {
    const id = await deploy('ecs-cancel');
    const arn = await taskArnOf(id);
    expect((await http(base, 'POST', `/deployments/${id}/cancel`)).status).toBe(202);
    const task = (await ecsEnv.describeTask(arn))!;
    expect(task.lastStatus).toBe('STOPPED');
    expect(task.stoppedReason).toMatch(/^canceled by owner-\S+@example\.test$/);
    expect((await http(base, 'GET', `/deployments/${id}`)).json.deployment).toMatchObject({
      status: 'CANCELED',
      errorMessage: expect.stringMatching(/^canceled by owner-/),
    });
    expect(await lastLogLine(id)).toMatchObject({ stream: 'system', message: expect.stringMatching(/^canceled by owner-/) });
  });

  it('keeps a running ECS build across an api-server restart, and settles it when its task ends', async () => {
    const id = await deploy('ecs-restart');
    const arn = await taskArnOf(id);
    await api.close();
    await startApi();
    // A pass has run at start and more since: the task still runs, so the deployment is left alone.
    await sleep(1_500);
    expect((await http(base, 'GET', `/deployments/${id}`)).json.deployment.status).toBe('QUEUED');
    await ecsEnv.stopTask(arn, 'Task failed to start');
    const done = await waitForDeployment(base, id, 30_000);
    expect(done).toMatchObject({ status: 'ERROR', errorMessage: 'the build ended without reporting a result: Task failed to start, exit code 0' });
  });
});
