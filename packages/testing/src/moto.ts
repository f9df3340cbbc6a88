/** moto, the AWS mock, for the ECS runner: the one server here that stands in for a service (AWS ECS) no test can run for real. */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { randomId } from '@platform/contracts';
import { freePort } from './ports.ts';

export const MOTO_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * An ECS API to test against: ECS_ENDPOINT when set (scripts/infra/up.sh runs moto on :4566),
 * else a `moto_server` started here on a free port. Throws (never skips) when neither works.
 */
export async function startMoto(env: Record<string, string | undefined>): Promise<{ endpoint: string; stop(): void }> {
  if (env.ECS_ENDPOINT) return { endpoint: env.ECS_ENDPOINT, stop() {} };
  const port = await freePort();
  const moto: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const failed = new Promise<never>((_, reject) =>
    moto.once('error', (err) => reject(new Error(`ECS_ENDPOINT is not set and moto_server could not start (pip install "moto[server]"): ${err.message}`))),
  );
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      if (
        await fetch(`${endpoint}/moto-api/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await sleep(100);
    }
    throw new Error(`moto_server did not answer on ${endpoint}`);
  })();
  await Promise.race([ready, failed]);
  return { endpoint, stop: () => moto.kill('SIGTERM') };
}

/** A fresh cluster and build-server task definition, and a subnet and security group of moto's default VPC. */
export async function prepareEcs(endpoint: string) {
  // By default moto walks a task from RUNNING to STOPPED after a few DescribeTasks calls, as
  // if every task ended by itself; a build task must run until it is stopped.
  const transition = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000_000 } }),
  });
  if (!transition.ok) throw new Error(`moto refused the ecs::task state transition setting: ${transition.status}`);
  const ecs = new ECSClient({ region: 'us-east-1', endpoint, credentials: MOTO_CREDENTIALS });
  const cluster = `builds-${randomId(8)}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `build-server-${randomId(8)}`,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '1024',
      memory: '2048',
      // moto sums container-level cpu and memory to place the task.
      containerDefinitions: [{ name: 'build-server', image: 'platform/build-server:latest', essential: true, cpu: 1024, memory: 2048 }],
    }),
  );
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
  return {
    ecs,
    cluster,
    /** Stops a task as ECS itself would (an OOM kill, a failed image pull). */
    stopTask: async (arn: string, reason: string) => void (await ecs.send(new StopTaskCommand({ cluster, task: arn, reason }))),
    describeTask: async (arn: string): Promise<Task | undefined> => (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks?.[0],
    /** ARNs of the cluster's tasks (moto keeps them all: RUNNING until stopped). */
    listTasks: async (): Promise<string[]> => (await ecs.send(new ListTasksCommand({ cluster }))).taskArns ?? [],
    taskDefinitionArn: registered.taskDefinition!.taskDefinitionArn!,
    subnet: await ec2('DescribeSubnets', 'subnetId'),
    securityGroup: await ec2('DescribeSecurityGroups', 'groupId'),
  };
}
