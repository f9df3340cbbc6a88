import { parseArgs } from './args.ts';
import { cliEnvironment, type CliEnvironment } from './config.ts';
import { createContext, type CommandContext } from './context.ts';
import { CliError } from './errors.ts';
import { Output } from './output.ts';
import { DEPLOY_HELP, deploy } from './commands/deploy.ts';
import { LS_HELP, ls, PROMOTE_HELP, promote, ROLLBACK_HELP, rollback } from './commands/deployments.ts';
import { ENV_HELP, env } from './commands/env.ts';
import { LINK_HELP, link } from './commands/link.ts';
import { LOGIN_HELP, login, logout } from './commands/login.ts';
import { LOGS_HELP, logs } from './commands/logs.ts';

interface Command {
  help: string;
  /** Resolves to the exit code, or to nothing for 0. */
  run: (ctx: CommandContext) => Promise<unknown>;
  booleans?: string[];
  values?: string[];
}

const COMMON_BOOLEANS = ['help', 'json'];
const COMMON_VALUES = ['token', 'api', 'cwd', 'project'];

const COMMANDS: Record<string, Command> = {
  login: { help: LOGIN_HELP, run: login, values: ['email'], booleans: ['password-stdin'] },
  logout: { help: 'plat logout\n\nForgets the token plat login saved.', run: logout },
  link: { help: LINK_HELP, run: link },
  deploy: { help: DEPLOY_HELP, run: deploy, booleans: ['prod', 'prebuilt', 'no-wait'] },
  logs: { help: LOGS_HELP, run: logs, booleans: ['follow'] },
  ls: { help: LS_HELP, run: ls, values: ['limit'] },
  promote: { help: PROMOTE_HELP, run: promote },
  rollback: { help: ROLLBACK_HELP, run: rollback },
  env: { help: ENV_HELP, run: env, values: ['target'] },
};

const USAGE = `plat: deploy a folder to the platform from a terminal

Usage: plat <command> [options]

  login      sign in and save an API token (mode 0600, under $XDG_CONFIG_HOME/plat)
  logout     forget the saved token
  link       link this folder to a project (.plat/project.json)
  deploy     upload the folder and deploy it; the URL alone on stdout
  logs       a deployment's build log, --follow to stream it live
  ls         the project's deployments
  promote    serve a READY deployment in production
  rollback   production back to the previous READY deployment
  env        ls | add | rm | pull the project's environment variables

Every command: --token <token> (or PLAT_TOKEN), --api <url> (or PLAT_API_URL),
--cwd <dir>, --json (listings as JSON), --help. NO_COLOR turns colour off.
plat <command> --help tells more.`;

/** Runs one command line; returns the exit code. Every failure is one line on stderr. */
export async function main(argv: readonly string[], environment: CliEnvironment = cliEnvironment()): Promise<number> {
  const out = new Output({ stdout: process.stdout, stderr: process.stderr }, environment.color);
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    out.result(USAGE);
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    out.error(`unknown command ${name} (plat --help lists them)`);
    return 1;
  }
  try {
    const args = parseArgs(rest, { booleans: [...COMMON_BOOLEANS, ...(command.booleans ?? [])], values: [...COMMON_VALUES, ...(command.values ?? [])] });
    if (args.flags.get('help') === true) {
      out.result(command.help);
      return 0;
    }
    const code = await command.run(createContext(args, environment, out));
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (err instanceof CliError) {
      out.error(err.message);
      return err.exitCode;
    }
    out.error(`unexpected failure: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}
