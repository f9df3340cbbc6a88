import { z } from 'zod';
import { commandSchema } from './commands.ts';

/** Static S3 keys. */
export const s3CredentialsSchema = z.object({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
});
export type S3Credentials = z.infer<typeof s3CredentialsSchema>;

/**
 * Where the build-server writes its output. On ECS the credentials come from the task role
 * and are absent here; a local child process has no role, so the runner hands it the keys
 * (the build-server keeps them away from the user's commands).
 */
export const storageSettingsSchema = z.discriminatedUnion('driver', [
  z.object({ driver: z.literal('local'), dir: z.string().min(1) }),
  z.object({
    driver: z.literal('s3'),
    bucket: z.string().min(1),
    region: z.string().min(1),
    endpoint: z.string().url().optional(),
    forcePathStyle: z.boolean().default(false),
    credentials: s3CredentialsSchema.optional(),
  }),
]);
export type StorageSettings = z.infer<typeof storageSettingsSchema>;

/** How build events leave the build-server. `pipe`: NDJSON on file descriptor 3, read by the local runner. */
export const transportSettingsSchema = z.discriminatedUnion('driver', [
  z.object({ driver: z.literal('pipe') }),
  z.object({
    driver: z.literal('kafka'),
    brokers: z.array(z.string().min(1)).min(1),
    clientId: z.string().default('build-server'),
    ssl: z.boolean().default(false),
    caFile: z.string().optional(),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    topic: z.string().default('build-events'),
  }),
]);
export type TransportSettings = z.infer<typeof transportSettingsSchema>;

/** Frameworks the build-server knows how to build; `static` means plain files, no build. */
export const frameworkSchema = z.enum([
  'nextjs',
  'gatsby',
  'docusaurus',
  'astro',
  'sveltekit',
  'nuxt',
  'create-react-app',
  'vue-cli',
  'vite',
  'angular',
  'eleventy',
  'vitepress',
  'react-router',
  'remix',
  'other',
  'static',
]);
export type Framework = z.infer<typeof frameworkSchema>;

export const packageManagerSchema = z.enum(['npm', 'pnpm', 'yarn', 'bun']);
export type PackageManagerName = z.infer<typeof packageManagerSchema>;

const gitUrlSchema = z.string().min(1).max(2048);

/** A Node.js version or range as a project setting: digits, dots, x, spaces, `<>=^~|-`, `v`, `lts/name`. */
export const nodeVersionSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^(?:lts\/[a-z*]+|[0-9xX*.<>=^~|\s v-]+)$/, 'nodeVersion must be a Node.js version or range such as 22, 22.x or >=20 <23');

/**
 * How the supervisor (the build-server) runs the user's commands. The runner decides it, from
 * what its host can do (see `@platform/sandbox`'s probe), and the supervisor refuses to build
 * with less than it is told: it never falls back to running a stranger's code unsandboxed.
 * - `bubblewrap`: their own user, pid, mount, ipc, uts and network namespaces, a read-only
 *   toolchain, only the build's work folder writable; as root also a uid of their own.
 * - `uid`: another uid than the supervisor's, nothing more (a container without user namespaces).
 * - `none`: the supervisor's own uid (single-user mode, where no sandbox can run).
 * - `auto` (containers, ECS): bubblewrap where the kernel allows it, else `uid`; never `none`.
 */
export const sandboxIsolationSchema = z.enum(['bubblewrap', 'uid', 'none', 'auto']);
export type SandboxIsolation = z.infer<typeof sandboxIsolationSchema>;

export const sandboxSettingsSchema = z.object({
  isolation: sandboxIsolationSchema,
  /** The uid and gid the user's commands run as (needs a supervisor that may switch users). */
  uid: z.number().int().positive().optional(),
  gid: z.number().int().positive().optional(),
  /** `egress`: the internet for package installs, no route to this machine or private networks. */
  network: z.enum(['egress', 'none']).default('egress'),
  /** More IPv4 addresses the build may not reach: the host's own, when the runner is outside the build's container. */
  egressDeny: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/)).default([]),
  /** Limits on everything the user's commands start, together. Absent: not limited. */
  memoryBytes: z.number().int().positive().optional(),
  pids: z.number().int().min(16).optional(),
  cpus: z.number().positive().optional(),
  /** Total CPU time of the build's commands, in seconds. */
  cpuSeconds: z.number().int().positive().optional(),
  /** Size of the build's work folder (clone, dependencies, caches, output, /tmp). */
  diskBytes: z.number().int().positive().optional(),
});
export type SandboxSettings = z.input<typeof sandboxSettingsSchema>;
export type ParsedSandboxSettings = z.output<typeof sandboxSettingsSchema>;

/** Everything a runner hands the build-server. One schema: the runner encodes with it, the build-server parses with it. */
export const buildTaskSchema = z.object({
  deploymentId: z.string().regex(/^[a-z0-9]{8,64}$/, 'deploymentId must be lower-case alphanumeric'),
  projectId: z.string().min(1).max(64),
  gitUrl: gitUrlSchema,
  /** Branch or tag to check out; the remote's default branch when absent. */
  gitRef: z.string().min(1).max(255).optional(),
  /** Exact commit to build; wins over gitRef. */
  gitCommit: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/)
    .optional(),
  /**
   * Token for a private repository over https. The build-server hands it to git as an
   * `Authorization` header through git's environment config, never in the URL, the log or the
   * environment of the user's commands.
   */
  gitToken: z.string().min(1).max(4096).optional(),
  /**
   * Private key (OpenSSH format) of the project's deploy key, for an ssh remote. The supervisor
   * writes it to a file of its own (mode 0600, outside the sandbox's work folder) for the clone
   * alone and deletes it before any user command runs; never in a log line or the user's env.
   */
  gitSshKey: z.string().min(1).max(16_384).optional(),
  /**
   * The platform's system variables (`PLATFORM_ENV`, `PLATFORM_URL`, `PLATFORM_GIT_COMMIT_SHA`...,
   * see `systemVariableNames`): not secret, so not masked in the log; handed to the user's
   * commands under the user's own build env vars, which win on a clash.
   */
  systemEnv: z.record(z.string().regex(/^PLATFORM(_[A-Z0-9_]+)?$/), z.string().max(4096)).default({}),
  /** Folder inside the repository that holds the app (monorepos). */
  rootDirectory: z.string().default('.'),
  /** Overrides the detected framework (which sets the default build command and output directory). */
  framework: frameworkSchema.optional(),
  /** Overrides the package manager detected from the lockfile and `packageManager` field. */
  packageManager: packageManagerSchema.optional(),
  /**
   * The project's Node.js version (`22`, `22.x`, `>=22 <24`, `22.11.0`): wins over `.nvmrc`,
   * `.node-version` and `engines.node`. Absent: what the repository asks for, else the image's.
   */
  nodeVersion: nodeVersionSchema.optional(),
  installCommand: commandSchema.optional(),
  buildCommand: commandSchema.optional(),
  /** Runs after the clone, before the install: exit 0 skips the build (the deployment ends CANCELED, "skipped: ..."). Wins over vercel.json's. */
  ignoreCommand: commandSchema.optional(),
  outputDirectory: z.string().optional(),
  /** The user's build env vars, injected into install and build commands only. */
  buildEnv: z.record(z.string(), z.string()).default({}),
  /**
   * The project's newest READY deployment: the upload takes the contents its (version 2)
   * manifest names as stored already and sends only the others (no listing of the project's
   * content). Absent: the upload lists the project's content namespace once.
   */
  reuseContentOf: z
    .string()
    .regex(/^[a-z0-9]{8,64}$/)
    .optional(),
  /** Restore and save the dependency cache; false for a "redeploy without cache". */
  useBuildCache: z.boolean().default(true),
  /**
   * Folders under which a local path is accepted as the git URL (the operator's choice,
   * `LOCAL_GIT_ROOTS`); empty: local paths are refused. The supervisor clones; the sandbox only
   * ever sees its own copy.
   */
  localGitRoots: z.array(z.string().min(1)).default([]),
  /** How the user's commands are isolated and limited. */
  sandbox: sandboxSettingsSchema,
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  storage: storageSettingsSchema,
  transport: transportSettingsSchema,
  /**
   * The key this build signs its events with (hex), derived by the api-server from the
   * platform's signing secret and this deployment's and project's ids: it signs for this one
   * deployment only. Absent where the platform signs nothing (no BUILD_EVENTS_SIGNING_SECRET).
   */
  eventSigningKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type BuildTask = z.input<typeof buildTaskSchema>;
/** What the scheduler asks a runner to start: the runner adds the sandbox its host can give. */
export type BuildTaskRequest = Omit<BuildTask, 'sandbox'>;
export type ParsedBuildTask = z.output<typeof buildTaskSchema>;

/**
 * The task travels as ONE environment variable holding JSON, so ECS container overrides,
 * `podman run -e` and a child process all carry it the same way, and no field can be
 * forgotten by one runner.
 */
export const BUILD_TASK_ENV = 'BUILD_TASK';

/**
 * Alternative to BUILD_TASK for runners that can write a file: the path of a JSON file holding
 * the task. The build-server reads it and deletes it before any user command runs, so the task
 * (and its credentials) is not left in the process's initial environment.
 */
export const BUILD_TASK_FILE_ENV = 'BUILD_TASK_FILE';

export function encodeBuildTaskEnv(task: BuildTask): Record<string, string> {
  return { [BUILD_TASK_ENV]: JSON.stringify(buildTaskSchema.parse(task)) };
}

export function parseBuildTaskEnv(env: Record<string, string | undefined>): ParsedBuildTask {
  const raw = env[BUILD_TASK_ENV];
  if (!raw) throw new Error(`${BUILD_TASK_ENV} is not set`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`${BUILD_TASK_ENV} is not valid JSON`);
  }
  return buildTaskSchema.parse(json);
}

/**
 * The system variables every build gets, named like Vercel's (`VERCEL_ENV` → `PLATFORM_ENV`).
 * `PLATFORM_GIT_PULL_REQUEST_ID` is empty outside a pull request, as on Vercel.
 */
export const systemVariableNames = [
  'PLATFORM',
  'PLATFORM_ENV',
  'PLATFORM_URL',
  'PLATFORM_BRANCH_URL',
  'PLATFORM_PROJECT_PRODUCTION_URL',
  'PLATFORM_DEPLOYMENT_ID',
  'PLATFORM_GIT_PROVIDER',
  'PLATFORM_GIT_REPO_OWNER',
  'PLATFORM_GIT_REPO_SLUG',
  'PLATFORM_GIT_COMMIT_REF',
  'PLATFORM_GIT_COMMIT_SHA',
  'PLATFORM_GIT_COMMIT_MESSAGE',
  'PLATFORM_GIT_PULL_REQUEST_ID',
] as const;
export type SystemVariableName = (typeof systemVariableNames)[number];
