import { describe, expect, it } from 'vitest';
import { DescribeTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { BUILD_TASK_ENV, parseBuildTaskEnv, type BuildTaskRequest } from '@platform/contracts';
import { createEcsRunner } from './ecs.ts';
import { RunnerStartError } from './runner.ts';

// THESE TESTS USE A MOCK of the ECS client: there is no real ECS here, and moto (see
// ecs.integration.test.ts) cannot be made to report capacity failures, throttling or a
// container's exit code. The mock records each command and answers what AWS documents.

type Reply = (command: unknown) => unknown;

function mockEcs(reply: Reply) {
  const sent: unknown[] = [];
  const ecs = {
    async send(command: unknown) {
      sent.push(command);
      const r = reply(command);
      if (r instanceof Error) throw r;
      return r;
    },
    destroy() {},
  } as unknown as Pick<ECSClient, 'send' | 'destroy'>;
  return { ecs, sent };
}

const task: BuildTaskRequest = {
  deploymentId: 'dpl0000000000000001',
  projectId: 'prj_1',
  gitUrl: 'https://github.com/a/b.git',
  gitRef: 'main',
  buildEnv: { API_URL: 'https://api.example.com' },
  storage: { driver: 's3', bucket: 'b', region: 'us-east-1' },
  transport: { driver: 'kafka', brokers: ['k:9092'] },
};

const base = {
  cluster: 'builds',
  taskDefinition: 'build-server:3',
  containerName: 'build-server',
  subnets: ['subnet-1', 'subnet-2'],
  securityGroups: ['sg-1'],
};

describe('ECS runner (MOCKED ECS client)', () => {
  it('RunTask carries the build task in the container overrides, the network and the tags', async () => {
    const { ecs, sent } = mockEcs(() => ({ tasks: [{ taskArn: 'arn:aws:ecs:us-east-1:1:task/builds/abc' }], failures: [] }));
    const runner = createEcsRunner({ ...base, ecs, assignPublicIp: true, tags: { team: 'web' } });
    expect(await runner.start(task)).toEqual({ taskId: 'arn:aws:ecs:us-east-1:1:task/builds/abc' });
    const input = (sent[0] as RunTaskCommand).input;
    expect(sent[0]).toBeInstanceOf(RunTaskCommand);
    expect(input).toMatchObject({
      cluster: 'builds',
      taskDefinition: 'build-server:3',
      launchType: 'FARGATE',
      count: 1,
      clientToken: task.deploymentId,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' } },
      tags: [
        { key: 'platform:deployment-id', value: task.deploymentId },
        { key: 'platform:project-id', value: 'prj_1' },
        { key: 'team', value: 'web' },
      ],
    });
    const override = input.overrides!.containerOverrides![0]!;
    expect(override.name).toBe('build-server');
    const env = Object.fromEntries(override.environment!.map((e) => [e.name!, e.value!]));
    expect(Object.keys(env)).toEqual([BUILD_TASK_ENV]);
    expect(parseBuildTaskEnv(env)).toMatchObject({ deploymentId: task.deploymentId, buildEnv: { API_URL: 'https://api.example.com' } });
  });

  it('uses a capacity provider instead of a launch type when given one, and refuses both', async () => {
    const { ecs, sent } = mockEcs(() => ({ tasks: [{ taskArn: 'arn:t' }] }));
    await createEcsRunner({ ...base, ecs, capacityProvider: 'FARGATE_SPOT' }).start(task);
    const input = (sent[0] as RunTaskCommand).input;
    expect(input.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]);
    expect(input.launchType).toBeUndefined();
    expect(() => createEcsRunner({ ...base, ecs, capacityProvider: 'FARGATE_SPOT', launchType: 'FARGATE' })).toThrow('not both');
  });

  it('turns RunTask failures[] into a start error, retryable for capacity and not for a bad task definition', async () => {
    const capacity = mockEcs(() => ({ tasks: [], failures: [{ arn: 'arn:c', reason: 'RESOURCE:MEMORY' }] }));
    const err1 = await createEcsRunner({ ...base, ecs: capacity.ecs })
      .start(task)
      .catch((e: unknown) => e);
    expect(err1).toBeInstanceOf(RunnerStartError);
    expect(err1).toMatchObject({ retryable: true, message: 'ECS RunTask started no task: RESOURCE:MEMORY' });

    const missing = mockEcs(() => ({ tasks: [], failures: [{ arn: 'arn:td', reason: 'MISSING', detail: 'task definition not found' }] }));
    const err2 = await createEcsRunner({ ...base, ecs: missing.ecs })
      .start(task)
      .catch((e: unknown) => e);
    expect(err2).toMatchObject({ retryable: false, message: 'ECS RunTask started no task: MISSING: task definition not found' });
  });

  it('treats throttling as retryable and an access-denied error as final', async () => {
    // What the SDK throws once its own retries are spent: ECS does not model this error, so it
    // arrives as a generic service error named by the response.
    const throttling = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const throttled = mockEcs(() => throttling);
    const err1 = await createEcsRunner({ ...base, ecs: throttled.ecs })
      .start(task)
      .catch((e: unknown) => e);
    expect(err1).toMatchObject({ retryable: true, message: 'ECS RunTask failed: ThrottlingException: Rate exceeded' });

    const denied = Object.assign(new Error('User is not authorized to perform: ecs:RunTask'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const err2 = await createEcsRunner({ ...base, ecs: mockEcs(() => denied).ecs })
      .start(task)
      .catch((e: unknown) => e);
    expect(err2).toMatchObject({ retryable: false, message: 'ECS RunTask failed: AccessDeniedException: User is not authorized to perform: ecs:RunTask' });
  });

  it('refuses a build task too large for the overrides, without calling ECS', async () => {
    const { ecs, sent } = mockEcs(() => ({ tasks: [{ taskArn: 'arn:t' }] }));
    const big = { ...task, buildEnv: { BLOB: 'x'.repeat(9_000) } };
    await expect(createEcsRunner({ ...base, ecs }).start(big)).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('too large') });
    expect(sent).toHaveLength(0);
  });

  it('describes a task that stopped with exit code 137 with its stoppedReason and exit code', async () => {
    const stoppedAt = new Date('2026-11-27T01:00:00Z');
    const { ecs, sent } = mockEcs((c) => {
      expect(c).toBeInstanceOf(DescribeTasksCommand);
      return {
        tasks: [
          {
            taskArn: 'arn:t1',
            lastStatus: 'STOPPED',
            stoppedReason: 'Essential container in task exited',
            stoppedAt,
            containers: [
              { name: 'log-router', exitCode: 0 },
              { name: 'build-server', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
            ],
          },
        ],
      };
    });
    const state = await createEcsRunner({ ...base, ecs }).describe('arn:t1');
    expect((sent[0] as DescribeTasksCommand).input).toEqual({ cluster: 'builds', tasks: ['arn:t1'] });
    expect(state).toEqual({
      state: 'stopped',
      exitCode: 137,
      reason:
        'Essential container in task exited; OutOfMemoryError: Container killed due to memory usage; exit code 137: the container was killed (SIGKILL, often its memory limit)',
      stoppedAt: stoppedAt.getTime(),
    });
  });

  it('reports PENDING and RUNNING as running, and a task ECS no longer knows as unknown', async () => {
    for (const lastStatus of ['PROVISIONING', 'PENDING', 'RUNNING', 'DEPROVISIONING']) {
      const { ecs } = mockEcs(() => ({ tasks: [{ taskArn: 'arn:t', lastStatus }] }));
      expect(await createEcsRunner({ ...base, ecs }).describe('arn:t')).toEqual({ state: 'running' });
    }
    const { ecs } = mockEcs(() => ({ tasks: [], failures: [{ arn: 'arn:gone', reason: 'MISSING' }] }));
    expect(await createEcsRunner({ ...base, ecs }).describe('arn:gone')).toEqual({ state: 'unknown' });
  });

  it('stops a task with the reason (cut to ECS’s 255 characters)', async () => {
    const { ecs, sent } = mockEcs(() => ({ task: { taskArn: 'arn:t' } }));
    await createEcsRunner({ ...base, ecs }).stop('arn:t', `canceled by the user ${'x'.repeat(300)}`);
    expect(sent[0]).toBeInstanceOf(StopTaskCommand);
    expect((sent[0] as StopTaskCommand).input).toMatchObject({ cluster: 'builds', task: 'arn:t' });
    expect((sent[0] as StopTaskCommand).input.reason).toHaveLength(255);
  });
});
