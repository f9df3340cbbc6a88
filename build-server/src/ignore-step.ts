/**
 * The ignored build step (Vercel's `ignoreCommand`, or the project's setting): one of the
 * user's commands, run in the sandbox after the clone and before anything is installed. Exit
 * code 0 means "nothing to build": the deployment ends without a build. Any other ending
 * (1, or a command that breaks) builds as usual, saying so: a broken check must never lose a
 * deployment the user expected.
 */
import type { Command } from '@platform/contracts';
import type { Sandbox } from '@platform/sandbox';
import type { BuildEventEmitter } from './events.ts';
import { runCommand } from './run-command.ts';

/** Thrown by the pipeline when the step says skip; runBuild ends the deployment CANCELED with this reason. */
export class BuildSkipped extends Error {}

/** At most this long: a check that hangs must not hold the build (it then builds). */
const IGNORE_STEP_TIMEOUT_MS = 5 * 60_000;

export async function runIgnoreStep(
  command: Command,
  source: string,
  options: { cwd: string; env: Record<string, string>; deadline: number; events: BuildEventEmitter; sandbox: Sandbox },
): Promise<void> {
  const shown = command.join(' ');
  options.events.system(`Running the ignored build step (${source}): ${shown}`);
  const timeoutMs = Math.min(IGNORE_STEP_TIMEOUT_MS, options.deadline - Date.now());
  const result = await runCommand(command, { cwd: options.cwd, env: options.env, timeoutMs, events: options.events, sandbox: options.sandbox });
  if (result.exitCode === 0) {
    options.events.system('The ignored build step exited with code 0: skipping the build');
    throw new BuildSkipped(`skipped: the ignored build step "${shown}" exited with code 0`);
  }
  const how = result.spawnError
    ? `could not start (${result.spawnError})`
    : result.timedOut
      ? `did not finish within ${Math.round(timeoutMs / 1000)} s`
      : result.limitReason
        ? `was ended by the sandbox: it ${result.limitReason}`
        : result.signal
          ? `was killed by ${result.signal}`
          : `exited with code ${result.exitCode}`;
  options.events.system(`The ignored build step ${how}: building`);
}
