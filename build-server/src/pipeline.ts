import { mkdir, stat } from 'node:fs/promises';
import { delimiter, join, relative, resolve, isAbsolute } from 'node:path';
import type { Command, ParsedBuildTask } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import type { Sandbox } from '@platform/sandbox';
import { dependencyCacheKey, packageManagerCacheEnv, restoreCache, saveCache } from './build-cache.ts';
import { DetectionError, planBuild, type BuildPlan, type PlanOverrides } from './detect.ts';
import type { BuildEventEmitter } from './events.ts';
import { cloneRepository, credentialProblem, GitInputError } from './git.ts';
import { runCommand } from './run-command.ts';
import { formatBytes, OutputTooLargeError, uploadOutput, type UploadLimits } from './upload.ts';
import { realPathInRepo } from './repo-files.ts';
import { readVercelConfig, VercelConfigError, type ProjectConfig } from './vercel-config.ts';
import { provideToolchain, type ProvidedToolchain } from './build-toolchains.ts';
import { detectNodeRequest, NodeVersionError } from './node-version.ts';
import { BuildSkipped, runIgnoreStep } from './ignore-step.ts';
import { NetlifyRulesError, readNetlifyRules } from './netlify-rules.ts';
import { DEFAULT_REGISTRY, defaultToolchainCache, ToolchainError, type ToolchainSettings } from './toolchains.ts';

export interface BuildDeps {
  task: ParsedBuildTask;
  store: ObjectStore;
  events: BuildEventEmitter;
  /** Where the user's commands run; its work folder (fresh, empty) holds the clone, home and caches. */
  sandbox: Sandbox;
  /** The only variables the user's commands see besides their build env vars (PATH, LANG...). */
  baseEnv: Record<string, string>;
  limits: UploadLimits;
  /** Largest dependency cache saved. Default 2 GiB. */
  cacheMaxBytes?: number;
  /** Where Node.js and package managers come from and are cached. Default: registry.npmjs.org, a folder in the OS temp dir. */
  toolchains?: ToolchainSettings;
}

/** A step failed in a way the user can act on; its message is the one-line reason. */
export class BuildFailure extends Error {}

const USER_ERRORS = [BuildFailure, OutputTooLargeError, VercelConfigError, DetectionError, GitInputError, NodeVersionError, ToolchainError, NetlifyRulesError];

/**
 * clone → read vercel.json → detect → restore cache → install → save cache → build → upload.
 * Emits BUILDING first and exactly one terminal status last (READY or ERROR), after every log
 * line of the build; an ERROR carries a one-line reason, also logged.
 */
export async function runBuild(deps: BuildDeps): Promise<'READY' | 'ERROR' | 'CANCELED'> {
  const { task, events } = deps;
  const started = Date.now();
  events.maskValues([
    ...Object.values(task.buildEnv),
    ...(task.gitToken ? [task.gitToken, basicAuth(task.gitToken)] : []),
    ...(task.gitSshKey ? sshKeyLines(task.gitSshKey) : []),
  ]);
  await events.status('BUILDING');
  // Filled in as the build learns it; the terminal status reports it for the deployment page.
  const report: BuildReport = {};
  const reported = () => (report.nodeVersion ? { nodeVersion: report.nodeVersion } : {});
  try {
    await build(deps, started, report);
    events.system(`Deployment ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await events.status('READY', reported());
    return 'READY';
  } catch (err) {
    if (err instanceof BuildSkipped) {
      // Its own ending: not a failure, no output; the reason says it was skipped and why.
      await events.status('CANCELED', { detail: err.message, ...reported() });
      return 'CANCELED';
    }
    const known = USER_ERRORS.some((type) => err instanceof type);
    const reason = oneLine(known ? (err as Error).message : `internal error: ${(err as Error).message}`);
    events.log('stderr', `Error: ${reason}`);
    await events.status('ERROR', { detail: reason, ...reported() });
    return 'ERROR';
  }
}

interface BuildReport {
  nodeVersion?: string;
}

/** The folders of one build, inside the sandbox's work folder, and the time it must end by. */
interface Workspace {
  repoDir: string;
  home: string;
  cacheDir: string;
  /** The supervisor's PATH: where git and the detected programs are looked up. */
  path: string;
  deadline: number;
}

/** What the cache phase found: the key of the dependencies (null without an install) and whether it was restored. */
interface CacheState {
  key: string | null;
  hit: boolean;
}

async function build(deps: BuildDeps, started: number, report: BuildReport): Promise<void> {
  const { task, events, sandbox } = deps;
  const workspace = await prepareWorkspace(deps, started);
  const { commit, message } = await cloneCheckout(deps, workspace);
  // From here on the checkout belongs to the sandbox's user; the token never was in it.
  await sandbox.handOver(workspace.repoDir);
  await events.status('BUILDING', { commit });

  const appDir = await findAppDir(task, workspace.repoDir);
  const projectConfig = await readProjectConfig(events, appDir);
  const plan = await detectPlan(deps, workspace, appDir, projectConfig);
  const toolchain = await setUpToolchain(deps, workspace, appDir, plan);
  if (toolchain.nodeVersion) report.nodeVersion = toolchain.nodeVersion;
  await ignoreStep(deps, workspace, appDir, projectConfig, toolchain);
  const cache = await restoreDependencyCache(deps, workspace, appDir, plan, toolchain);
  const userEnv = await prepareUserEnvironment(deps, workspace, cache.hit, toolchain, {
    PLATFORM_GIT_COMMIT_SHA: commit,
    PLATFORM_GIT_COMMIT_MESSAGE: message,
  });

  const step = { repoDir: workspace.repoDir, env: userEnv, deadline: workspace.deadline, timeoutMs: task.timeoutMs, events, sandbox };
  if (plan.install) {
    const installTime = await runStep('install', plan.install, { ...step, cwd: plan.installDir });
    events.system(`Installed dependencies in ${seconds(installTime)}${cache.hit ? ' (with the build cache)' : ''}`);
  }
  if (plan.build) await runStep('build', plan.build, { ...step, cwd: appDir });
  // Saved once no process of the build is left (one could swap a file for a link to a
  // file of the platform's between the archiver's check and its read), while the output
  // uploads; its outcome is logged before the deployment finishes.
  const cacheSave =
    plan.install && cache.key && task.useBuildCache && !cache.hit ? saveDependencyCache(deps, cache.key, workspace.cacheDir) : Promise.resolve();
  try {
    await upload(deps, { repoDir: workspace.repoDir, appDir, plan, projectConfig });
  } finally {
    await cacheSave;
  }
}

async function prepareWorkspace(deps: BuildDeps, started: number): Promise<Workspace> {
  const { sandbox } = deps;
  const workspace: Workspace = {
    repoDir: join(sandbox.workDir, 'repo'),
    home: join(sandbox.workDir, 'home'),
    cacheDir: join(sandbox.workDir, 'cache'),
    path: deps.baseEnv.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    deadline: started + deps.task.timeoutMs,
  };
  await mkdir(workspace.home, { recursive: true });
  deps.events.system(sandbox.description);
  return workspace;
}

/** Clones the repository into the workspace; returns the commit checked out and its message. */
async function cloneCheckout(deps: BuildDeps, workspace: Workspace): Promise<{ commit: string; message: string }> {
  const { task, events, sandbox } = deps;
  events.system(`Cloning ${redactUrl(task.gitUrl)}${task.gitCommit ? ` at ${task.gitCommit}` : task.gitRef ? ` (${task.gitRef})` : ''}`);
  const cloneStarted = Date.now();
  let cloned: { commit: string; message: string };
  try {
    cloned = await cloneRepository({
      url: task.gitUrl,
      dir: workspace.repoDir,
      ...(task.gitRef ? { ref: task.gitRef } : {}),
      ...(task.gitCommit ? { commit: task.gitCommit } : {}),
      ...(task.gitToken ? { token: task.gitToken } : {}),
      // git runs on the supervisor's side, with its own empty HOME: never the user's.
      env: { PATH: workspace.path, HOME: join(sandbox.workDir, '..') },
      localRoots: task.localGitRoots,
      timeoutMs: Math.max(1, workspace.deadline - Date.now()),
      onProgress: (line) => events.system(line),
      // The deploy key's file lives beside the work folder, on the supervisor's side, for the clone alone.
      ...(task.gitSshKey ? { sshKey: task.gitSshKey, keyDir: join(sandbox.workDir, '..', '.git-credentials') } : {}),
    });
  } catch (err) {
    if (err instanceof GitInputError) throw err;
    const message = oneLine((err as Error).message).replace(/(:\/\/)[^@/\s]+@/g, '$1***@');
    const problem = credentialProblem(message, { token: Boolean(task.gitToken), sshKey: Boolean(task.gitSshKey) });
    throw new BuildFailure(problem ? `clone failed: ${problem} (${message})` : `clone failed: ${message}`);
  }
  events.system(`Cloned commit ${cloned.commit} in ${seconds(Date.now() - cloneStarted)}`);
  return cloned;
}

/** The project's root directory inside the checkout: it must exist and really be inside. */
async function findAppDir(task: ParsedBuildTask, repoDir: string): Promise<string> {
  const appDir = insideOrFail(repoDir, task.rootDirectory, 'root directory');
  if (!(await isDirectory(appDir))) throw new BuildFailure(`root directory "${task.rootDirectory}" does not exist in the repository`);
  await realPathInside(repoDir, appDir, `root directory "${task.rootDirectory}"`);
  return appDir;
}

async function readProjectConfig(events: BuildEventEmitter, appDir: string): Promise<ProjectConfig | null> {
  const projectConfig = await readVercelConfig(appDir);
  if (projectConfig) {
    events.system(`Read vercel.json: ${describeRouting(projectConfig)}`);
    if (projectConfig.ignoredKeys.length > 0)
      events.system(`vercel.json: ignoring keys this platform does not support: ${projectConfig.ignoredKeys.join(', ')}`);
  }
  return projectConfig;
}

async function detectPlan(deps: BuildDeps, workspace: Workspace, appDir: string, projectConfig: ProjectConfig | null): Promise<BuildPlan> {
  const plan = await planBuild(appDir, overridesFrom(deps.task, projectConfig), { repoDir: workspace.repoDir });
  for (const reason of plan.reasons) deps.events.system(`Detected ${reason}`);
  for (const warning of plan.warnings) deps.events.system(`Warning: ${warning}`);
  return plan;
}

/** The project's ignored build step, when it has one (its setting wins over vercel.json's); throws BuildSkipped on exit 0. */
async function ignoreStep(deps: BuildDeps, workspace: Workspace, appDir: string, config: ProjectConfig | null, toolchain: ProvidedToolchain): Promise<void> {
  const { task, events, sandbox } = deps;
  const command = task.ignoreCommand ?? config?.ignoreCommand;
  if (!command) return;
  await sandbox.handOver(workspace.home);
  const path = deps.baseEnv.PATH ?? workspace.path;
  const env: Record<string, string> = { ...deps.baseEnv, HOME: workspace.home, CI: '1', ...task.buildEnv };
  env.PATH = toolchain.binDir ? `${toolchain.binDir}${delimiter}${env.PATH ?? path}` : (env.PATH ?? path);
  const source = task.ignoreCommand ? 'project setting' : 'vercel.json ignoreCommand';
  await runIgnoreStep(command, source, { cwd: appDir, env, deadline: workspace.deadline, events, sandbox });
}

/** The Node.js the project asks for and its package manager, from npm packages, before anything of the user's runs. */
async function setUpToolchain(deps: BuildDeps, workspace: Workspace, appDir: string, plan: BuildPlan): Promise<ProvidedToolchain> {
  const { task, events, sandbox } = deps;
  // Plain files: no Node.js runs, none is chosen or downloaded.
  if (!plan.install && !plan.build) return { nodeVersion: null, binDir: null, packageManagerVersion: null };
  const node = await detectNodeRequest({
    repoDir: workspace.repoDir,
    appDir,
    ...(task.nodeVersion ? { setting: task.nodeVersion } : {}),
    enginesNode: plan.enginesNode,
  });
  return provideToolchain({
    settings: deps.toolchains ?? { registry: DEFAULT_REGISTRY, cacheDir: defaultToolchainCache() },
    // Not handed over: the sandbox's user (where it is another uid) may run it, not change it.
    dir: join(sandbox.workDir, 'toolchain'),
    node,
    packageManager: plan.packageManager?.tool ?? null,
    log: (line) => events.system(line),
  });
}

async function restoreDependencyCache(
  deps: BuildDeps,
  workspace: Workspace,
  appDir: string,
  plan: BuildPlan,
  toolchain: ProvidedToolchain,
): Promise<CacheState> {
  const { task, events } = deps;
  if (!plan.install || !plan.packageManager) return { key: null, hit: false };
  const { repoDir, cacheDir } = workspace;
  const dependencyFile = plan.packageManager.lockfile ? join(repoDir, plan.packageManager.lockfile) : join(appDir, 'package.json');
  // Hashed with the supervisor's rights: a lockfile that links out (to /dev/zero, to a key) is refused.
  await realPathInside(repoDir, dependencyFile, plan.packageManager.lockfile ?? 'package.json');
  const key = await dependencyCacheKey({
    projectId: task.projectId,
    packageManager: { ...plan.packageManager, version: toolchain.packageManagerVersion ?? plan.packageManager.version },
    dependencyFile,
    ...(toolchain.nodeVersion ? { nodeVersion: toolchain.nodeVersion } : {}),
  });
  if (!task.useBuildCache) {
    events.system('Build cache: skipped (disabled for this deployment)');
    return { key, hit: false };
  }
  const restoreStarted = Date.now();
  try {
    const restored = await restoreCache(deps.store, key, cacheDir);
    events.system(
      restored.hit
        ? `Build cache: hit, restored ${formatBytes(restored.bytes)} in ${seconds(Date.now() - restoreStarted)} (${key})`
        : `Build cache: miss (${key})`,
    );
    return { key, hit: restored.hit };
  } catch (err) {
    events.system(`Build cache: could not be restored, installing without it: ${oneLine((err as Error).message)}`);
    return { key, hit: false };
  }
}

/** Hands the cache and home folders to the sandbox's user; returns the environment of the user's commands. */
async function prepareUserEnvironment(
  deps: BuildDeps,
  workspace: Workspace,
  cacheHit: boolean,
  toolchain: ProvidedToolchain,
  fromCheckout: Record<string, string>,
): Promise<Record<string, string>> {
  const { task, events, sandbox } = deps;
  await mkdir(workspace.cacheDir, { recursive: true });
  await sandbox.handOver(workspace.cacheDir);
  await sandbox.handOver(workspace.home);
  // The user's commands get this and nothing else: no platform settings, no credentials.
  const userEnv: Record<string, string> = {
    ...deps.baseEnv,
    HOME: workspace.home,
    CI: '1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...packageManagerCacheEnv(workspace.cacheDir, { preferOffline: cacheHit }),
    // The platform's system variables, then what the checkout says, then the user's own (which win).
    ...task.systemEnv,
    ...fromCheckout,
    ...task.buildEnv,
  };
  // The toolchain first, after the user's variables: a build env var named PATH keeps it in front.
  if (toolchain.binDir) userEnv.PATH = `${toolchain.binDir}${delimiter}${userEnv.PATH ?? workspace.path}`;
  const buildEnvNames = Object.keys(task.buildEnv);
  if (buildEnvNames.length > 0) events.system(`Build environment variables: ${buildEnvNames.sort().join(', ')}`);
  return userEnv;
}

/** Never throws: a cache that cannot be saved only makes the next build slower. */
async function saveDependencyCache(deps: BuildDeps, key: string, cacheDir: string): Promise<void> {
  const saveStarted = Date.now();
  try {
    const saved = await saveCache(deps.store, key, cacheDir, deps.cacheMaxBytes ?? 2 * 1024 ** 3);
    deps.events.system(
      saved.saved ? `Build cache: saved ${formatBytes(saved.bytes)} in ${seconds(Date.now() - saveStarted)}` : `Build cache: not saved, ${saved.reason}`,
    );
  } catch (err) {
    deps.events.system(`Build cache: could not be saved: ${oneLine((err as Error).message)}`);
  }
}

async function upload(
  deps: BuildDeps,
  { repoDir, appDir, plan, projectConfig }: { repoDir: string; appDir: string; plan: BuildPlan; projectConfig: ProjectConfig | null },
): Promise<void> {
  const { task, events } = deps;

  const output = await findOutput(repoDir, appDir, plan);
  const routing = await routingWithNetlifyRules(events, repoDir, output.dir, projectConfig);
  const uploadStarted = Date.now();
  let skipped = 0;
  const onSkip = (file: string, why: string) => {
    // A few lines say what was left out; a folder of ten thousand symlinks must not flood the log.
    if (++skipped <= 20) events.system(`Skipped ${file}: ${why}`);
  };
  const atRoot = output.dir === appDir;
  const { manifest, stats } = await uploadOutput({
    store: deps.store,
    deploymentId: task.deploymentId,
    projectId: task.projectId,
    ...(task.reuseContentOf ? { reuseContentOf: task.reuseContentOf } : {}),
    dir: output.dir,
    limits: deps.limits,
    ...(routing ? { routing: routing.config } : {}),
    // Deploying the repository as it is: its configuration files are not part of the site.
    exclude: [...(atRoot ? ['vercel.json'] : []), ...(routing?.netlifyFiles ?? [])],
    onSkip,
  });
  if (skipped > 20) events.system(`Skipped ${skipped - 20} more paths`);
  if (Object.keys(manifest.files).length === 0) throw new BuildFailure(`output directory "${output.name}" is empty`);
  events.system(
    `Uploaded ${stats.files} files (${formatBytes(stats.bytes)}) from "${output.name}" with ${stats.brotliVariants} brotli and ${stats.gzipVariants} gzip variants in ${seconds(Date.now() - uploadStarted)}` +
      (stats.reusedContents ? `; ${stats.reusedContents} unchanged files were already stored` : '') +
      (stats.retries > 0 ? ` (${stats.retries} retried requests)` : ''),
  );
}

/** vercel.json's rules, then those of Netlify's `_redirects` and `_headers` in the output, each unsupported line logged. */
async function routingWithNetlifyRules(
  events: BuildEventEmitter,
  repoDir: string,
  outputDir: string,
  projectConfig: ProjectConfig | null,
): Promise<{ config: ProjectConfig['routing']; netlifyFiles: string[] } | null> {
  const netlify = await readNetlifyRules(repoDir, outputDir);
  if (!netlify) return projectConfig ? { config: projectConfig.routing, netlifyFiles: [] } : null;
  events.system(
    `Read ${netlify.files.join(' and ')}: ${netlify.redirects.length} redirects, ${netlify.rewrites.length} rewrites, ${netlify.headers.length} header rules`,
  );
  for (const line of netlify.unsupported.slice(0, 50)) events.system(`Not applied: ${line}`);
  if (netlify.unsupported.length > 50) events.system(`Not applied: ${netlify.unsupported.length - 50} more lines`);
  const base = projectConfig?.routing ?? { cleanUrls: false, redirects: [], rewrites: [], headers: [] };
  return {
    config: {
      ...base,
      redirects: [...base.redirects, ...netlify.redirects],
      rewrites: [...base.rewrites, ...netlify.rewrites],
      headers: [...base.headers, ...netlify.headers],
    },
    netlifyFiles: netlify.files,
  };
}

function overridesFrom(task: ParsedBuildTask, config: ProjectConfig | null): PlanOverrides {
  const overrides: PlanOverrides = {};
  // The project's settings win over vercel.json, which wins over detection.
  const install = task.installCommand ?? config?.installCommand;
  const buildCommand = task.buildCommand ?? config?.buildCommand;
  const output = task.outputDirectory ?? config?.outputDirectory;
  if (install) overrides.installCommand = install;
  if (buildCommand) overrides.buildCommand = buildCommand;
  if (output) overrides.outputDirectory = output;
  if (task.framework) overrides.framework = task.framework;
  if (task.packageManager) overrides.packageManager = task.packageManager;
  return overrides;
}

async function findOutput(repoDir: string, appDir: string, plan: BuildPlan): Promise<{ dir: string; name: string }> {
  for (const candidate of plan.outputCandidates) {
    const dir = insideOrFail(appDir, candidate, 'output directory');
    if (await isDirectory(dir)) {
      // A symlink named `dist` pointing at / would otherwise have the whole filesystem walked.
      await realPathInside(repoDir, dir, `output directory "${candidate}"`);
      return { dir, name: candidate };
    }
  }
  if (plan.outputCandidates.length === 1) {
    throw new BuildFailure(`output directory "${plan.outputCandidates[0]}" was not found after the build`);
  }
  throw new BuildFailure(
    `no output directory found after the build (looked for ${plan.outputCandidates.join(', ')}); set the output directory in the project settings`,
  );
}

/** Runs one step; returns how long it took, or throws a BuildFailure with a one-line reason. */
async function runStep(
  step: string,
  command: Command,
  options: { cwd: string; repoDir: string; env: Record<string, string>; deadline: number; timeoutMs: number; events: BuildEventEmitter; sandbox: Sandbox },
): Promise<number> {
  const shown = command.join(' ');
  const where = relative(options.repoDir, options.cwd);
  options.events.system(`Running ${step} command: ${shown}${where ? ` (in ${where})` : ''}`);
  const timeoutMs = options.deadline - Date.now();
  if (timeoutMs <= 0) throw new BuildFailure(`build timed out after ${seconds(options.timeoutMs)} before the ${step} step`);
  const result = await runCommand(command, { cwd: options.cwd, env: options.env, timeoutMs, events: options.events, sandbox: options.sandbox });
  if (result.limitReason) {
    options.events.system(`The ${step} command was ended by the sandbox: it ${result.limitReason}`);
    throw new BuildFailure(`${step} command "${shown}" ${result.limitReason}`);
  }
  if (result.timedOut) {
    options.events.system(`The ${step} command was killed (with every process it started) at the build timeout`);
    throw new BuildFailure(`build timed out after ${seconds(options.timeoutMs)}: ${step} command "${shown}" was killed`);
  }
  if (result.spawnError) throw new BuildFailure(`${step} command "${shown}" could not start: ${result.spawnError}`);
  if (result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    options.events.system(`The ${step} command ${how} after ${seconds(result.durationMs)}`);
    throw new BuildFailure(`${step} command "${shown}" ${how}`);
  }
  options.events.system(`The ${step} command exited with code 0 after ${seconds(result.durationMs)}`);
  return result.durationMs;
}

/** Follows symlinks: the folder or file must really be inside the repository checkout. */
async function realPathInside(repoDir: string, path: string, what: string): Promise<void> {
  if ((await realPathInRepo(repoDir, path)) === null) {
    throw new BuildFailure(`${what} is a link to a ${(await stat(path)).isDirectory() ? 'folder' : 'file'} outside the repository`);
  }
}

function insideOrFail(base: string, sub: string, what: string): string {
  const full = resolve(base, sub);
  const rel = relative(base, full);
  if (isAbsolute(sub) || rel.startsWith('..') || isAbsolute(rel)) throw new BuildFailure(`${what} "${sub}" points outside the repository`);
  return full;
}

const isDirectory = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

function describeRouting(config: ProjectConfig): string {
  const r = config.routing;
  const parts = [
    `cleanUrls ${r.cleanUrls ? 'on' : 'off'}`,
    r.trailingSlash === undefined ? null : `trailingSlash ${r.trailingSlash ? 'on' : 'off'}`,
    `${r.redirects.length} redirects`,
    `${r.rewrites.length} rewrites`,
    `${r.headers.length} header rules`,
  ];
  return parts.filter(Boolean).join(', ');
}

/** `https://user:token@host/x` is shown as `https://***@host/x`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]+@/i, '$1***@');
}

const basicAuth = (token: string) => Buffer.from(`x-access-token:${token}`).toString('base64');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const oneLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .slice(0, 1000);

/** Each line of a key, so no part of it can reach the log even if a tool prints it. */
const sshKeyLines = (key: string) =>
  key
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 16 && !l.startsWith('-----'));
