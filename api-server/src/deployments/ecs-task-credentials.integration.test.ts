import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TASK_ENV, parseBuildTaskEnv } from '@platform/contracts';
import { createPgliteDb, migrate, type Db } from '@platform/db';
import { deploymentEventKey } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { createEcsRunner } from '@platform/runner';
import { MOTO_CREDENTIALS, prepareEcs, startMoto } from '@platform/testing/moto';
import { loadApiConfig } from '../config.ts';
import { apiOptionsFrom, createUploadCredentials } from '../drivers.ts';
import { ProjectsRepo } from '../projects/projects-repo.ts';
import { DeploymentsRepo } from './deployments-repo.ts';
import { Scheduler } from './scheduler.ts';

// A launch on RUNNER=ecs as production configures it, against moto's ECS and STS (no real AWS
// here; moto records the task, runs no container, and enforces no IAM policy, so what is
// checked is what the task carries). The platform's secrets are distinctive strings, so any of
// them found anywhere in the recorded task fails the test.

const PLATFORM = {
  AWS_SECRET_ACCESS_KEY: `platform-aws-secret-${randomBytes(6).toString('hex')}`,
  KAFKA_PASSWORD: `platform-kafka-pw-${randomBytes(6).toString('hex')}`,
  BUILD_EVENTS_SIGNING_SECRET: `platform-signing-secret-${randomBytes(12).toString('hex')}`,
  JWT_SECRET: `platform-jwt-${randomBytes(16).toString('hex')}`,
  ENV_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};

let moto: Awaited<ReturnType<typeof startMoto>>;
let dir: string;
let db: Db;
beforeAll(async () => {
  moto = await startMoto(process.env);
  dir = mkdtempSync(join(tmpdir(), 'ecs-creds-'));
  db = await createPgliteDb({ dataDir: join(dir, 'pglite') });
  await migrate(db);
});
afterAll(async () => {
  await db?.close();
  moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an ECS build task carries only what its own build may use', () => {
  it('minted upload credentials of its deployment, the build principal, its own signing key, and no platform secret', async () => {
    const { ecs, cluster, taskDefinitionArn, subnet, securityGroup, describeTask } = await prepareEcs(moto.endpoint);
    const config = loadApiConfig({
      DATA_DIR: dir,
      RUNNER: 'ecs',
      ECS_CLUSTER: cluster,
      ECS_TASK_DEFINITION: taskDefinitionArn,
      ECS_SUBNETS: subnet,
      // moto answers RunTask with a 500 when no security group is named.
      ECS_SECURITY_GROUPS: securityGroup,
      ECS_ENDPOINT: moto.endpoint,
      S3_BUCKET: 'platform-test',
      AWS_REGION: 'us-east-1',
      S3_ENDPOINT: moto.endpoint,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_USERNAME: 'platform',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_BUILD_USERNAME: 'build',
      KAFKA_BUILD_PASSWORD: 'build-principal-pw',
      S3_UPLOAD_ROLE_ARN: 'arn:aws:iam::123456789012:role/platform-build-upload',
      STS_ENDPOINT: moto.endpoint,
      ...PLATFORM,
    });
    const deployments = new DeploymentsRepo(db);
    const projects = new ProjectsRepo(db);
    const project = await projects.create({ name: `ecs creds ${Date.now()}`, gitUrl: 'https://github.com/a/b.git' });
    const deployment = await deployments.create({ projectId: project.id, target: 'production', ref: 'main', commit: null });
    const runner = createEcsRunner({
      client: { region: 'us-east-1', endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS },
      cluster,
      taskDefinition: taskDefinitionArn,
      containerName: config.ECS_CONTAINER_NAME,
      subnets: config.ECS_SUBNETS,
      securityGroups: config.ECS_SECURITY_GROUPS,
    });
    const uploadCredentials = createUploadCredentials(config)!;
    const scheduler = new Scheduler(
      {
        deployments,
        projects,
        runner,
        uploadCredentials,
        lifecycle: {
          finish: async (_row, _status, reason) => {
            throw new Error(`the launch failed: ${reason}`);
          },
        },
        logger: createLogger({ level: 'silent' }),
      },
      apiOptionsFrom(config).scheduler,
    );
    await scheduler.runPass();
    const row = await deployments.get(deployment.id);
    // A launch that failed says why (a retryable failure only waits for the next pass).
    expect(row?.launch_error ?? null).toBeNull();
    expect(row?.task_id).toMatch(/^arn:aws:ecs:/);

    const described = (await describeTask(row!.task_id!))!;
    const overrides = described.overrides!;
    const env = Object.fromEntries(overrides.containerOverrides![0]!.environment!.map((e) => [e.name!, e.value!]));
    expect(Object.keys(env)).toEqual([BUILD_TASK_ENV]);
    const task = parseBuildTaskEnv(env);

    // No platform secret anywhere in what ECS recorded (operators with ecs:DescribeTasks see it).
    const recorded = JSON.stringify(described);
    for (const [name, secret] of Object.entries(PLATFORM)) expect(recorded.includes(secret), `${name} in the task`).toBe(false);

    // S3: a session of the upload role for this deployment, not the api-server's keys.
    expect(task.storage.driver).toBe('s3');
    const keys = task.storage.driver === 's3' ? task.storage.credentials! : undefined;
    expect(keys?.accessKeyId).not.toBe(MOTO_CREDENTIALS.accessKeyId);
    expect(keys?.sessionToken).toBeTruthy();
    const asBuild = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: keys! });
    expect((await asBuild.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      `arn:aws:sts::123456789012:assumed-role/platform-build-upload/deployment-${deployment.id}`,
    );
    asBuild.destroy();

    // Kafka: the build principal, whose ACLs allow producing to the build-events topic only.
    expect(task.transport).toMatchObject({ driver: 'kafka', sasl: { mechanism: 'scram-sha-512', username: 'build', password: 'build-principal-pw' } });
    // Events: this deployment's key, which signs for it alone.
    expect(task.eventSigningKey).toBe(deploymentEventKey(PLATFORM.BUILD_EVENTS_SIGNING_SECRET, { deploymentId: deployment.id, projectId: project.id }));

    await runner.stop(row!.task_id!, 'test over');
    await runner.close();
    uploadCredentials.close();
    ecs.destroy();
  });
});
