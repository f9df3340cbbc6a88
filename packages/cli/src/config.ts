import { homedir } from 'node:os';
import { join } from 'node:path';

/** The CLI's name: the binary, its config folder, its ignore file and link folder. */
export const CLI_NAME = 'plat';
export const IGNORE_FILE = `.${CLI_NAME}ignore`;
export const LINK_DIR = `.${CLI_NAME}`;

export interface CliEnvironment {
  /** PLAT_API_URL: the API to talk to; else the one saved at login; else http://127.0.0.1:9000. */
  apiUrl: string | undefined;
  /** PLAT_TOKEN: an API token, over the one saved at login. */
  token: string | undefined;
  /** `$XDG_CONFIG_HOME/plat` (default `~/.config/plat`): where `login` keeps the token, mode 0600. */
  configDir: string;
  /** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
  color: boolean;
  cwd: string;
}

/** The only reader of the environment. */
export function cliEnvironment(env: NodeJS.ProcessEnv = process.env, stderrIsTty = process.stderr.isTTY === true): CliEnvironment {
  const xdg = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return {
    apiUrl: env.PLAT_API_URL || undefined,
    token: env.PLAT_TOKEN || undefined,
    configDir: join(xdg, CLI_NAME),
    color: stderrIsTty && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb',
    cwd: process.cwd(),
  };
}
