import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TASK_ENV, parseBuildTaskEnv } from '@platform/contracts';
import { grantBuildProducer } from '@platform/event-bus';
import { createS3ObjectStore } from '@platform/object-store';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { startGitHttpServer, type GitHttpServer } from '@platform/testing/git-http-server';
import { http, signUpDefaultUser, waitForDeployment } from '@platform/testing/http';
import { integrationEnv } from '@platform/testing/infra-env';
import { startPrivateKafka, type PrivateKafka } from '@platform/testing/kafka';
import { MOTO_CREDENTIALS, prepareEcs, startMoto } from '@platform/testing/moto';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

// NOT YET PASSING, so kept out of the suite (this file's name ends in .wip.ts, which no vitest
// project collects; rename it to *.integration.test.ts to run it). What works, seen in its runs:
// the api-server on RUNNER=ecs launches on moto and the recorded overrides hold only the
// build's own (BUILD_TASK alone: the build principal, minted keys, its signing key); the image
// under podman clones, installs and builds, and its signed events reach the writer over Kafka
// as the build principal (the build's log is in ClickHouse). What fails: S3 answers
// InvalidToken to the minted session here, in this test process and in the container, although
// the token is the one moto's STS stored for that key (checked through /moto-api/data.json),
// while the same mint-then-put (same code, same moto, same token length and duration) passes
// in a standalone tsx script. Not yet understood.
//
// The production build path end to end. The api-server runs RUNNER=ecs against moto's ECS
// and STS (no real AWS here: moto records the task and runs no container), with a Kafka of
// this test's own set up as `npm run infra:up` sets up the shared one (SASL/SCRAM, ACLs) and
// S3 on moto. This test then plays Fargate: it runs the build-server image under podman with
// exactly the environment ECS recorded in the task's container overrides, as root with the
// capabilities the task definition gives (infra/iam/README.md), on the host's network (as
// awsvpc reaches the brokers and S3). The deployment must go READY through the build
// principal's signed events and be served from what the minted credentials uploaded.

const ROOT = join(import.meta.dirname, '..');
const IMAGE = 'localhost/platform-build-server:ecs-path-test';
const run = randomBytes(4).toString('hex');

describe('the ECS build task under podman, on Kafka with ACLs and S3 with minted credentials', () => {
  let kafka: PrivateKafka;
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let ecs: Awaited<ReturnType<typeof prepareEcs>>;
  let git: GitHttpServer;
  let platform: TestPlatform;
  let repo: string;
  const topic = `build-events-ecs-${run}`;
  let s3Bucket: string;
  let s3Endpoint: string;

  beforeAll(async () => {
    if (spawnSync('podman', ['--version']).status !== 0) throw new Error('podman is not installed: npm run runner:podman-setup');
    execFileSync('bash', [join(ROOT, 'packages/runner/container/build-image.sh')], { env: { ...process.env, IMAGE }, stdio: ['ignore', 'ignore', 'inherit'] });
    const s3 = integrationEnv('S3_ENDPOINT', 'S3_BUCKET', 'AWS_REGION');
    s3Bucket = s3.S3_BUCKET;
    s3Endpoint = s3.S3_ENDPOINT;
    [kafka, moto] = await Promise.all([startPrivateKafka({ auth: true }), startMoto(process.env)]);
    ecs = await prepareEcs(moto.endpoint);
    repo = gitRepoFromFixture('vanilla-site');
    git = await startGitHttpServer(dirname(repo), null);
    platform = await startEmbeddedPlatform({
      RUNNER: 'ecs',
      ECS_CLUSTER: ecs.cluster,
      ECS_TASK_DEFINITION: ecs.taskDefinitionArn,
      ECS_SUBNETS: ecs.subnet,
      ECS_SECURITY_GROUPS: ecs.securityGroup,
      ECS_ENDPOINT: moto.endpoint,
      S3_BUCKET: s3.S3_BUCKET,
      AWS_REGION: s3.AWS_REGION,
      S3_ENDPOINT: s3.S3_ENDPOINT,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      S3_UPLOAD_ROLE_ARN: 'arn:aws:iam::123456789012:role/platform-build-upload',
      STS_ENDPOINT: moto.endpoint,
      KAFKA_BROKERS: kafka.auth!.brokers,
      KAFKA_USERNAME: kafka.auth!.platform.username,
      KAFKA_PASSWORD: kafka.auth!.platform.password,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_BUILD_USERNAME: kafka.auth!.build.username,
      KAFKA_BUILD_PASSWORD: kafka.auth!.build.password,
      KAFKA_TOPIC_LOGS: topic,
      KAFKA_TOPIC_REQUESTS: `request-logs-ecs-${run}`,
      BUILD_EVENTS_SIGNING_SECRET: randomBytes(32).toString('hex'),
      // The git server is on this machine (plain http): allowed only with local git on.
      ALLOW_LOCAL_GIT: 'true',
      LOCAL_GIT_ROOTS: tmpdir(),
    });
    // The platform made the topic (its writer subscribed); the build principal may produce to it alone.
    await grantBuildProducer(
      { brokers: [kafka.auth!.brokers], clientId: 'acl', sasl: { mechanism: 'scram-sha-512', ...kafka.auth!.platform } },
      { principal: kafka.auth!.build.username, topic },
    );
    await signUpDefaultUser(platform.api);
  }, 600_000);
  afterAll(async () => {
    spawnSync('podman', ['rm', '-f', `ecs-path-${run}`]);
    await platform?.close();
    await git?.close();
    await kafka?.destroy();
    moto?.stop();
  });

  /** What ECS recorded for the build task's container: its override environment. */
  async function recordedEnvironment(): Promise<{ arn: string; env: Record<string, string> }> {
    const until = Date.now() + 60_000;
    for (;;) {
      const [arn] = await ecs.listTasks();
      if (arn) {
        const task = await ecs.describeTask(arn);
        const overrides = task?.overrides?.containerOverrides?.find((o) => o.name === 'build-server');
        return { arn, env: Object.fromEntries((overrides?.environment ?? []).map((e) => [e.name!, e.value!])) };
      }
      if (Date.now() > until) throw new Error('the api-server launched no ECS task');
      await sleep(200);
    }
  }

  /** Fargate's part: the image, run with the recorded environment and nothing else of ours. */
  async function runAsFargate(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(
      'podman',
      [
        'run',
        '--rm',
        '--name',
        `ecs-path-${run}`,
        '--network',
        'host',
        // The task definition runs the build-server as root with CAP_SETUID (infra/iam/README.md).
        '--user',
        '0:0',
        // Fargate's root is not this machine's: a user namespace of its own, as the container
        // runner gives (without it the sandbox takes the host-root path, slirp4netns on a tap
        // device the container has not got). No NET_ADMIN: on the host's network a firewall
        // would be this machine's, so the build's network is the task's, unfiltered, as on Fargate.
        '--userns',
        'auto',
        // On the host's network a user namespace cannot mount a sysfs of its own: this machine's, read-only.
        '-v',
        '/sys:/sys:ro',
        '--read-only',
        '--tmpfs',
        '/scratch:rw,exec,nosuid,nodev,mode=1777,size=1g',
        '--tmpfs',
        '/tmp:rw,nosuid,nodev,mode=1777,size=64m',
        '--security-opt',
        'no-new-privileges',
        // A hung build fails the test instead of holding it.
        '--timeout',
        '180',
        '--cap-drop',
        'ALL',
        ...['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'KILL'].flatMap((cap) => ['--cap-add', cap]),
        '--security-opt',
        'unmask=/proc/*',
        // Only the names: the values travel in podman's environment, never on a command line.
        ...Object.keys(env).flatMap((name) => ['-e', name]),
        IMAGE,
      ],
      { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4_000)));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    return { code, stderr };
  }

  it('goes READY and serves, the task holding only what its build may use', async () => {
    const name = `ecs-${run}`;
    const created = await http(platform.api, 'POST', '/project', { name, gitUrl: `${git.url}/${basename(repo)}` });
    expect(created.status).toBe(201);
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: created.json.project.id });
    expect(deploy.status).toBe(202);
    const deploymentId = deploy.json.deployment.id as string;

    const { arn, env } = await recordedEnvironment();
    expect(Object.keys(env)).toEqual([BUILD_TASK_ENV]);
    const task = parseBuildTaskEnv(env);
    expect(task.deploymentId).toBe(deploymentId);
    expect(task.transport).toMatchObject({ driver: 'kafka', sasl: { username: kafka.auth!.build.username } });
    expect(task.storage).toMatchObject({ driver: 's3', credentials: { sessionToken: expect.any(String) } });
    expect(env[BUILD_TASK_ENV]).not.toContain(kafka.auth!.platform.password);

    // What the build will do with them, done first from here: the recorded keys write its own prefix.
    const keys = task.storage.driver === 's3' ? task.storage.credentials! : undefined;
    const probe = createS3ObjectStore({ bucket: s3Bucket, region: 'us-east-1', endpoint: s3Endpoint, forcePathStyle: true, credentials: keys! });
    await probe.put(`deployments/${deploymentId}/probe.txt`, Buffer.from('probe'));
    await probe.close?.();

    const build = await runAsFargate(env);
    const done = await waitForDeployment(platform.api, deploymentId, 30_000).catch(() => ({ status: 'never finished' }));
    const log = (await http(platform.api, 'GET', `/deployments/${deploymentId}/logs`)).json.lines as { message: string }[];
    const story = [...log.map((l) => l.message), build.stderr].join('\n');
    expect(done.status, story).toBe('READY');
    expect(build.code, story).toBe(0);
    const home = await viaProxy(platform.proxyPort, `${name}.localhost`);
    expect(home.status).toBe(200);
    expect(home.text).toContain('Vanilla fixture home');
    expect(log.some((l) => l.message.includes('copied src to dist'))).toBe(true);
    await ecs.stopTask(arn, 'test over');
  }, 300_000);
});
