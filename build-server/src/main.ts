/**
 * The build-server's composition root: the program every build container (or local child
 * process) runs as `node --import tsx build-server/src/main.ts` (one process: `tsx` as a CLI
 * would leave a parent holding the original environment). It reads its task from
 * BUILD_TASK_FILE (deleted once read) or BUILD_TASK, erases every trace of it from the
 * environment the user's commands could read, builds the storage and event drivers the task
 * names, runs the pipeline and exits 0 on READY, 1 on ERROR.
 */
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { createSandbox, SandboxUnavailableError, type Sandbox } from '@platform/sandbox';
import { join } from 'node:path';
import { BUILD_EVENTS_TOPIC, BUILD_TASK_ENV, BUILD_TASK_FILE_ENV } from '@platform/contracts';
import { createKafkaEventBus, createPipeEventBus, type EventBus } from '@platform/event-bus';
import { createObjectStore, type ObjectStore } from '@platform/object-store';
import { loadConfig, type BuildServerConfig } from './config.ts';
import { closeInheritedDescriptors, endEarlierChildren, scrubInitialEnvironment } from './environ.ts';
import { BuildEventEmitter } from './events.ts';
import { runBuild } from './pipeline.ts';
import { killAllCommands } from './run-command.ts';

async function main(): Promise<number> {
  const env: Record<string, string | undefined> = { ...process.env };
  const taskFile = env[BUILD_TASK_FILE_ENV];
  if (taskFile) {
    env[BUILD_TASK_ENV] = await readFile(taskFile, 'utf8');
    await unlink(taskFile).catch((err: unknown) => process.stderr.write(`could not delete ${BUILD_TASK_FILE_ENV}: ${String(err)}\n`));
  }
  const config = loadConfig(env);
  // The task carries transport settings and the git token: nothing this process starts may
  // inherit it or read it back from /proc/<pid>/environ.
  const scrubbed = await scrubInitialEnvironment([BUILD_TASK_ENV, BUILD_TASK_FILE_ENV]);
  if (!scrubbed) process.stderr.write('warning: could not erase the initial environment block (/proc/self/mem)\n');
  await endEarlierChildren();
  await closeInheritedDescriptors([0, 1, 2, 3]);
  const { task } = config;
  // A runner stops a build (cancel, timeout) with SIGTERM: end the user's process trees, then
  // exit; the runner reports the deployment's final status. As PID 1 in a container, the
  // default action would be to ignore SIGTERM.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void killAllCommands().finally(() => process.exit(128 + (signal === 'SIGTERM' ? 15 : 2)));
    });
  }

  const store: ObjectStore = createObjectStore(task.storage);
  const bus: EventBus = createBus(task.transport);
  const events = new BuildEventEmitter(
    bus,
    { deploymentId: task.deploymentId, projectId: task.projectId },
    {
      caps: config.logCaps,
      ...(task.eventSigningKey ? { signingKey: task.eventSigningKey } : {}),
    },
  );
  const root = await mkdtemp(join(config.workDir, 'build-'));
  let sandbox: Sandbox | undefined;
  try {
    try {
      sandbox = await createSandbox({
        settings: task.sandbox,
        root,
        name: task.deploymentId,
        ...(config.egressAllow.length ? { egressAllow: config.egressAllow } : {}),
      });
    } catch (err) {
      // Never a fallback to less isolation than asked for: the build ends, saying why.
      const reason = err instanceof SandboxUnavailableError ? err.message : `the build sandbox could not be set up: ${(err as Error).message}`;
      await events.status('BUILDING');
      events.log('stderr', `Error: ${reason}`);
      await events.status('ERROR', { detail: reason });
      return 1;
    }
    const result = await runBuild({
      task,
      store,
      events,
      sandbox,
      baseEnv: config.baseEnv,
      limits: config.limits,
      cacheMaxBytes: config.cacheMaxBytes,
      toolchains: config.toolchains,
    });
    // A skipped build (the ignored build step) ended as asked: not a failure.
    return result === 'ERROR' ? 1 : 0;
  } finally {
    await events.flush();
    await bus.close();
    await store.close?.();
    await sandbox?.close().catch((err: unknown) => process.stderr.write(`closing the sandbox failed: ${String(err)}\n`));
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}

function createBus(settings: BuildServerConfig['task']['transport']): EventBus {
  switch (settings.driver) {
    case 'pipe':
      return createPipeEventBus();
    case 'kafka':
      // Events go to the topic the task names (KAFKA_TOPIC_LOGS of the api-server that launched it).
      return createKafkaEventBus({
        brokers: settings.brokers,
        clientId: settings.clientId,
        ssl: settings.ssl,
        ...(settings.caFile ? { caFile: settings.caFile } : {}),
        ...(settings.sasl ? { sasl: settings.sasl } : {}),
        topicNames: { [BUILD_EVENTS_TOPIC]: settings.topic },
      });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`build-server failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 2;
  },
);
