import { stat } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';
import type { Command, ParsedBuildTask } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import type { BuildEventEmitter } from './events.ts';
import { cloneRepository } from './git.ts';
import { planBuild } from './detect.ts';
import { runCommand } from './run-command.ts';
import { formatBytes, OutputTooLargeError, uploadOutput, type UploadLimits } from './upload.ts';

export interface BuildDeps {
  task: ParsedBuildTask;
  store: ObjectStore;
  events: BuildEventEmitter;
  /** A fresh, empty folder this build owns. */
  workDir: string;
  /** The only variables the user's commands see besides their build env vars (PATH, LANG...). */
  baseEnv: Record<string, string>;
  limits: UploadLimits;
}

/** A step failed in a way the user can act on; its message is the one-line reason. */
export class BuildFailure extends Error {}

/**
 * clone → plan → install → build → upload. Emits BUILDING first and exactly one terminal
 * status last (READY or ERROR), after every log line of the build.
 */
export async function runBuild(deps: BuildDeps): Promise<'READY' | 'ERROR'> {
  const { task, events } = deps;
  const started = Date.now();
  events.maskValues(Object.values(task.buildEnv));
  await events.status('BUILDING');
  try {
    await build(deps, started);
    events.system(`Deployment ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await events.status('READY');
    return 'READY';
  } catch (err) {
    const reason = err instanceof BuildFailure || err instanceof OutputTooLargeError ? err.message : `internal error: ${(err as Error).message}`;
    events.log('stderr', `Error: ${reason}`);
    await events.status('ERROR', { detail: reason });
    return 'ERROR';
  }
}

async function build(deps: BuildDeps, started: number): Promise<void> {
  const { task, events } = deps;
  const deadline = started + task.timeoutMs;
  const repoDir = join(deps.workDir, 'repo');
  const home = join(deps.workDir, 'home');
  // git and the user's commands get the same clean environment: no platform settings at all.
  const userEnv: Record<string, string> = {
    ...deps.baseEnv,
    HOME: home,
    CI: '1',
    GIT_TERMINAL_PROMPT: '0',
    npm_config_update_notifier: 'false',
    ...task.buildEnv,
  };

  events.system(`Cloning ${task.gitUrl}${task.gitCommit ? ` at ${task.gitCommit}` : task.gitRef ? ` (${task.gitRef})` : ''}`);
  let commit: string;
  try {
    ({ commit } = await cloneRepository({
      url: task.gitUrl,
      dir: repoDir,
      ...(task.gitRef ? { ref: task.gitRef } : {}),
      ...(task.gitCommit ? { commit: task.gitCommit } : {}),
      env: { PATH: deps.baseEnv.PATH ?? '/usr/bin:/bin', HOME: home, GIT_TERMINAL_PROMPT: '0' },
      allowLocal: task.allowLocalGit,
    }));
  } catch (err) {
    throw new BuildFailure(`clone failed: ${firstLine((err as Error).message)}`);
  }
  events.system(`Cloned commit ${commit}`);
  await events.status('BUILDING', { commit });

  const appDir = insideOrFail(repoDir, task.rootDirectory, 'root directory');
  if (!(await isDirectory(appDir))) throw new BuildFailure(`root directory "${task.rootDirectory}" does not exist in the repository`);

  const plan = await planBuild(appDir, {
    ...(task.installCommand ? { installCommand: task.installCommand } : {}),
    ...(task.buildCommand ? { buildCommand: task.buildCommand } : {}),
    ...(task.outputDirectory ? { outputDirectory: task.outputDirectory } : {}),
  });
  for (const reason of plan.reasons) events.system(`Detected ${reason}`);

  for (const [step, command] of [
    ['install', plan.install],
    ['build', plan.build],
  ] as const) {
    if (!command) continue;
    await runStep(step, command, { cwd: appDir, env: userEnv, deadline, events });
  }

  const outputDir = insideOrFail(appDir, plan.outputDirectory, 'output directory');
  if (!(await isDirectory(outputDir))) {
    throw new BuildFailure(`output directory "${plan.outputDirectory}" was not found after the build`);
  }
  const uploadStarted = Date.now();
  const manifest = await uploadOutput({
    store: deps.store,
    deploymentId: task.deploymentId,
    dir: outputDir,
    limits: deps.limits,
    onSkip: (path, why) => events.system(`Skipped ${path}: ${why}`),
  });
  const files = Object.values(manifest.files);
  if (files.length === 0) throw new BuildFailure(`output directory "${plan.outputDirectory}" is empty`);
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  events.system(`Uploaded ${files.length} files (${formatBytes(bytes)}) in ${Date.now() - uploadStarted} ms`);
}

async function runStep(
  step: string,
  command: Command,
  options: { cwd: string; env: Record<string, string>; deadline: number; events: BuildEventEmitter },
): Promise<void> {
  const shown = command.join(' ');
  options.events.system(`Running ${step} command: ${shown}`);
  const timeoutMs = options.deadline - Date.now();
  if (timeoutMs <= 0) throw new BuildFailure(`build timed out before the ${step} step`);
  const result = await runCommand(command, { cwd: options.cwd, env: options.env, timeoutMs, events: options.events });
  if (result.timedOut) throw new BuildFailure(`${step} command "${shown}" timed out and was killed`);
  if (result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : result.exitCode === null ? 'could not start' : `exited with code ${result.exitCode}`;
    throw new BuildFailure(`${step} command "${shown}" ${how}`);
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

const firstLine = (text: string) => text.split('\n').find((l) => l.trim())?.trim() ?? text;
