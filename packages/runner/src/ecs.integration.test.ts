import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { BUILD_TASK_ENV, parseBuildTaskEnv, randomId, type BuildTaskRequest } from '@platform/contracts';
import { MOTO_CREDENTIALS, prepareEcs, startMoto } from '@platform/testing/moto';
import { createEcsRunner } from './ecs.ts';

// The ECS runner against moto in server mode, a stateful stand-in for the ECS API (no real
// ECS here). ECS_ENDPOINT points at a running moto (scripts/infra/up.sh starts one on
// :4566); without it this test starts its own `moto_server`, and fails (does not skip) when
// neither is available.

let moto: Awaited<ReturnType<typeof startMoto>>;
beforeAll(async () => {
  moto = await startMoto(process.env);
});
afterAll(() => moto?.stop());

describe('ECS runner against moto', () => {
  it('starts a task carrying the build task in its overrides, finds it, and stops it', async () => {
    const { ecs, cluster, taskDefinitionArn, subnet, securityGroup } = await prepareEcs(moto.endpoint);
    const runner = createEcsRunner({
      client: { region: 'us-east-1', endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS },
      cluster,
      taskDefinition: taskDefinitionArn,
      containerName: 'build-server',
      subnets: [subnet],
      securityGroups: [securityGroup],
    });

    const task: BuildTaskRequest = {
      deploymentId: randomId(20),
      projectId: 'prj_moto',
      gitUrl: 'https://github.com/a/b.git',
      buildEnv: { PUBLIC_URL: 'https://example.com' },
      storage: { driver: 's3', bucket: 'platform-test', region: 'us-east-1' },
      transport: { driver: 'kafka', brokers: ['127.0.0.1:9092'] },
    };
    const { taskId } = await runner.start(task);
    expect(taskId).toMatch(/^arn:aws:ecs:us-east-1:\d+:task\//);

    // What ECS recorded: the overrides carry the build task, and the task is tagged.
    const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskId], include: ['TAGS'] }));
    const recorded = described.tasks![0]!;
    const override = recorded.overrides!.containerOverrides!.find((o) => o.name === 'build-server')!;
    const env = Object.fromEntries(override.environment!.map((e) => [e.name!, e.value!]));
    expect(Object.keys(env)).toEqual([BUILD_TASK_ENV]);
    expect(parseBuildTaskEnv(env)).toMatchObject({ deploymentId: task.deploymentId, buildEnv: { PUBLIC_URL: 'https://example.com' } });
    expect(recorded.taskDefinitionArn).toBe(taskDefinitionArn);
    expect(recorded.tags).toContainEqual({ key: 'platform:deployment-id', value: task.deploymentId });

    expect(await runner.describe(taskId)).toEqual({ state: 'running' });

    await runner.stop(taskId, 'canceled by the user');
    const stopped = await runner.describe(taskId);
    expect(stopped.state).toBe('stopped');
    expect(stopped.reason).toContain('canceled by the user');
    await runner.close();
    ecs.destroy();
  });
});
