import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateClusterCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { BUILD_TASK_ENV, parseBuildTaskEnv, randomId, type BuildTask } from '@platform/contracts';
import { createEcsRunner } from './ecs.ts';

// The ECS runner against moto in server mode, a stateful stand-in for the ECS API (no real
// ECS here). ECS_ENDPOINT points at a running moto (scripts/infra/up.sh starts one on
// :4566); without it this test starts its own `moto_server` on a free port, and fails
// (does not skip) when neither is available.

let moto: ChildProcess | undefined;
let endpoint: string;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  if (process.env.ECS_ENDPOINT) {
    endpoint = process.env.ECS_ENDPOINT;
    return;
  }
  const port = await freePort();
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) =>
    moto!.once('error', (err) => reject(new Error(`ECS_ENDPOINT is not set and moto_server could not start (pip install "moto[server]"): ${err.message}`))),
  );
  endpoint = `http://127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      if (await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false)) return;
      await sleep(100);
    }
    throw new Error(`moto_server did not answer on ${endpoint}`);
  })();
  await Promise.race([ready, failed]);
});

afterAll(() => {
  moto?.kill('SIGTERM');
});

/** moto's default VPC: RunTask in awsvpc mode attaches a network interface in a real (moto) subnet. */
async function defaultNetwork(): Promise<{ subnet: string; securityGroup: string }> {
  const ec2 = async (action: string, tag: string) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // moto reads the region from the credential scope and checks no signature.
        authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: `Action=${action}&Version=2016-11-15`,
    });
    const match = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(await res.text());
    if (!match?.[1]) throw new Error(`moto ${action} returned no ${tag}`);
    return match[1];
  };
  return { subnet: await ec2('DescribeSubnets', 'subnetId'), securityGroup: await ec2('DescribeSecurityGroups', 'groupId') };
}

describe('ECS runner against moto', () => {
  it('starts a task carrying the build task in its overrides, finds it, and stops it', async () => {
    const client = { region: 'us-east-1', endpoint: '', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    client.endpoint = endpoint;
    const ecs = new ECSClient(client);
    const cluster = `builds-${randomId(8)}`;
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const family = `build-server-${randomId(8)}`;
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '1024',
        memory: '2048',
        containerDefinitions: [{ name: 'build-server', image: 'platform/build-server:latest', essential: true, cpu: 1024, memory: 2048 }],
      }),
    );
    const network = await defaultNetwork();
    const runner = createEcsRunner({
      client,
      cluster,
      taskDefinition: registered.taskDefinition!.taskDefinitionArn!,
      containerName: 'build-server',
      subnets: [network.subnet],
      securityGroups: [network.securityGroup],
    });

    const task: BuildTask = {
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
    expect(parseBuildTaskEnv(env)).toMatchObject({ deploymentId: task.deploymentId, buildEnv: { PUBLIC_URL: 'https://example.com' } });
    expect(Object.keys(env)).toEqual([BUILD_TASK_ENV]);
    expect(recorded.taskDefinitionArn).toBe(registered.taskDefinition!.taskDefinitionArn);
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
