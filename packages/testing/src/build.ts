/** The build pipeline run in process on a fixture repository, its events captured instead of sent. */
import {
  buildTaskSchema,
  contentKey,
  deploymentPrefix,
  manifestKey,
  manifestSchema,
  type BuildEvent,
  type BuildTask,
  type LogEvent,
  type ParsedBuildTask,
  type StatusEvent,
} from '@platform/contracts';
import { BuildEventEmitter, runBuild, type BuildDeps } from '@platform/build-server';
import type { EventBus } from '@platform/event-bus';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { createSandbox } from '@platform/sandbox';
import { tempDir } from './fixtures.ts';
import { HOST_ENV } from './infra-env.ts';
import { TEST_SANDBOX } from './sandbox.ts';

type UploadLimits = BuildDeps['limits'];
type LogCaps = NonNullable<NonNullable<ConstructorParameters<typeof BuildEventEmitter>[2]>['caps']>;

/** An EventBus that keeps every published build event, in order. */
export function capturingBus(): EventBus & { events: BuildEvent[] } {
  const events: BuildEvent[] = [];
  return {
    events,
    async publish(_topic, messages) {
      for (const m of messages) events.push(JSON.parse(m.value) as BuildEvent);
    },
    async subscribe() {
      throw new Error('capturing bus is publish-only');
    },
    async close() {},
  };
}

/** A build task for `gitUrl`, stored in the local folder `storageDir`, in the test sandbox. */
export function makeTask(overrides: Partial<BuildTask> & { gitUrl: string; storageDir: string }): ParsedBuildTask {
  const { storageDir, ...rest } = overrides;
  return buildTaskSchema.parse({
    deploymentId: `dep${Math.random().toString(36).slice(2, 12)}`,
    projectId: 'proj1',
    localGitRoots: ['/'],
    sandbox: TEST_SANDBOX,
    timeoutMs: 120_000,
    storage: { driver: 'local', dir: storageDir },
    transport: { driver: 'pipe' },
    ...rest,
  });
}

export interface FixtureBuild {
  result: 'READY' | 'ERROR' | 'CANCELED';
  task: ParsedBuildTask;
  store: ObjectStore;
  events: BuildEvent[];
  logs: LogEvent[];
  /** Every log message, one per line. */
  text: string;
  final: StatusEvent;
}

export const DEFAULT_LIMITS: UploadLimits = { maxFiles: 1000, maxTotalBytes: 50 * 1024 ** 2, concurrency: 8 };

/** `running`, or a failure after 45 s carrying what the build logged so far (not a bare test timeout). */
async function within45s<T>(running: Promise<T>, emitter: BuildEventEmitter, events: BuildEvent[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const log = () => events.map((e) => (e.type === 'log' ? `[${e.stream}] ${e.message}` : e.status)).join('\n');
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void emitter.flush().then(() => reject(new Error(`build did not finish in 45 s; its log so far:\n${log()}`)));
    }, 45_000);
  });
  return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
}

/** Runs the whole pipeline in process on a repository, with the local object store and a capturing bus. */
export async function buildRepo(
  repo: string,
  options: { task?: Partial<BuildTask>; limits?: Partial<UploadLimits>; caps?: LogCaps; storageDir?: string; toolchains?: BuildDeps['toolchains'] } = {},
): Promise<FixtureBuild> {
  const storageDir = options.storageDir ?? tempDir('store');
  const store = createLocalObjectStore({ rootDir: storageDir });
  const task = makeTask({ gitUrl: repo, storageDir, ...options.task });
  const bus = capturingBus();
  const emitter = new BuildEventEmitter(bus, { deploymentId: task.deploymentId, projectId: task.projectId }, options.caps ? { caps: options.caps } : {});
  const sandbox = await createSandbox({ settings: task.sandbox, root: tempDir('work'), name: task.deploymentId });
  const running = runBuild({
    task,
    store,
    events: emitter,
    sandbox,
    baseEnv: { PATH: HOST_ENV.PATH ?? '/usr/bin:/bin' },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ...(options.toolchains ? { toolchains: options.toolchains } : {}),
  }).finally(() => sandbox.close());
  const result = await within45s(running, emitter, bus.events);
  await emitter.flush();
  const logs = bus.events.filter((e): e is LogEvent => e.type === 'log');
  return { result, task, store, events: bus.events, logs, text: logs.map((l) => l.message).join('\n'), final: bus.events.at(-1) as StatusEvent };
}

/** A deployed file's bytes, read as the proxy finds them: through the manifest, in either layout. */
export async function deployedFile(store: ObjectStore, deploymentId: string, path: string): Promise<Buffer | null> {
  const raw = await store.getBuffer(manifestKey(deploymentId));
  if (!raw) return null;
  const manifest = manifestSchema.parse(JSON.parse(raw.toString('utf8')));
  const file = manifest.files[path];
  if (!file) return null;
  return store.getBuffer(manifest.version === 2 ? contentKey(manifest.projectId!, file.hash) : `${deploymentPrefix(deploymentId)}${path}`);
}
