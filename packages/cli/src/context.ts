import { resolve } from 'node:path';
import { ApiClient } from './api.ts';
import { flagString, type ParsedArgs } from './args.ts';
import type { CliEnvironment } from './config.ts';
import { readLogin } from './credentials.ts';
import type { Output } from './output.ts';

export const DEFAULT_API_URL = 'http://127.0.0.1:9000';

/** What every command gets: its arguments, the environment, where to write, the API. */
export interface CommandContext {
  args: ParsedArgs;
  env: CliEnvironment;
  out: Output;
  json: boolean;
  /** The folder a command works in: `--cwd`, else the current one. */
  cwd: string;
  /** The API with the credential to use: `--token`, else PLAT_TOKEN, else the one `login` saved. */
  api(): Promise<ApiClient>;
}

export function createContext(args: ParsedArgs, env: CliEnvironment, out: Output): CommandContext {
  return {
    args,
    env,
    out,
    json: args.flags.get('json') === true,
    cwd: resolve(env.cwd, flagString(args, 'cwd') ?? '.'),
    async api() {
      const saved = await readLogin(env.configDir);
      const apiUrl = flagString(args, 'api') ?? env.apiUrl ?? saved?.apiUrl ?? DEFAULT_API_URL;
      const token = flagString(args, 'token') ?? env.token ?? saved?.token;
      return new ApiClient(apiUrl, token);
    },
  };
}
