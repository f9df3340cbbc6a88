/**
 * The build-server's composition root: the program every build container (or local child
 * process) runs. It reads its task from the environment, builds the storage and event
 * drivers the task names, runs the pipeline and exits 0 on READY, 1 on ERROR.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD_EVENTS_TOPIC, BUILD_TASK_ENV } from '@platform/contracts';
import { createKafkaEventBus, createPipeEventBus, type EventBus } from '@platform/event-bus';
import { createObjectStore, type ObjectStore } from '@platform/object-store';
import { loadConfig } from './config.ts';
import { BuildEventEmitter } from './events.ts';
import { runBuild } from './pipeline.ts';

async function main(): Promise<number> {
  const config = loadConfig(process.env);
  // The task carries transport settings; nothing this process starts may inherit it.
  delete process.env[BUILD_TASK_ENV];
  const { task } = config;

  const store: ObjectStore = createObjectStore(task.storage);
  const bus: EventBus = createBus(task.transport);
  const events = new BuildEventEmitter(bus, { deploymentId: task.deploymentId, projectId: task.projectId });
  const workDir = await mkdtemp(join(config.workDir, 'build-'));
  try {
    const result = await runBuild({ task, store, events, workDir, baseEnv: config.baseEnv, limits: config.limits });
    return result === 'READY' ? 0 : 1;
  } finally {
    await events.flush();
    await bus.close();
    await store.close?.();
  }
}

function createBus(settings: ReturnType<typeof loadConfig>['task']['transport']): EventBus {
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
