// moto ECS: the calls a build runner makes. moto needs (1) a container-level `memory`
// in the task definition, (2) for awsvpc, a subnet + security group that exist in
// moto's EC2 (its default VPC's, looked up by selftest.sh as ECS_TEST_SUBNET/_SG).
import { ECSClient, CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, DescribeTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { check, done } from './check.mjs';

const ecs = new ECSClient({ endpoint: process.env.ECS_ENDPOINT, region: process.env.AWS_REGION });
const cluster = 'infra-selftest';
let taskArn;
await check('CreateCluster', async () => (await ecs.send(new CreateClusterCommand({ clusterName: cluster }))).cluster.status === 'ACTIVE');
await check(
  'RegisterTaskDefinition (Fargate, awsvpc)',
  async () =>
    !!(
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'infra-selftest-builder',
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          cpu: '256',
          memory: '512',
          containerDefinitions: [{ name: 'builder', image: 'builder:latest', essential: true, memory: 512 }],
        }),
      )
    ).taskDefinition.taskDefinitionArn,
);
await check('RunTask FARGATE with env overrides', async () => {
  const r = await ecs.send(
    new RunTaskCommand({
      cluster,
      taskDefinition: 'infra-selftest-builder',
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: { subnets: [process.env.ECS_TEST_SUBNET], securityGroups: [process.env.ECS_TEST_SG], assignPublicIp: 'ENABLED' },
      },
      overrides: { containerOverrides: [{ name: 'builder', environment: [{ name: 'PROJECT_ID', value: 'p1' }] }] },
    }),
  );
  taskArn = r.tasks[0].taskArn;
  return r.tasks[0].lastStatus === 'RUNNING' && r.tasks[0].overrides.containerOverrides[0].environment[0].value === 'p1';
});
await check('DescribeTasks', async () => (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks[0].taskArn === taskArn);
await check('StopTask -> STOPPED', async () => {
  await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason: 'selftest' }));
  const t = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks[0];
  return t.lastStatus === 'STOPPED' && t.desiredStatus === 'STOPPED' && t.stoppedReason === 'selftest';
});
done('ecs');
