import { ApiClient } from '../api.ts';
import { flagString } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { DEFAULT_API_URL } from '../context.ts';
import { forgetLogin, saveLogin } from '../credentials.ts';
import { CliError } from '../errors.ts';

export const LOGIN_HELP = `plat login [--api <url>] (--token <token> | --email <email> [--password-stdin])

Signs in and saves an API token, readable by you alone (mode 0600), in
$XDG_CONFIG_HOME/plat/auth.json (default ~/.config/plat/auth.json).

  --token <token>     an API token made in the dashboard (plt_...); checked, then saved
  --email <email>     sign in with a password, read from stdin (one line); a new API
                      token named "plat cli" is made and saved, never the password
  --api <url>         the platform's API (default $PLAT_API_URL or ${DEFAULT_API_URL})

Without login, every command also takes --token or the PLAT_TOKEN variable.
plat logout forgets the saved token.`;

export async function login(ctx: CommandContext): Promise<void> {
  const apiUrl = flagString(ctx.args, 'api') ?? ctx.env.apiUrl ?? DEFAULT_API_URL;
  let token = flagString(ctx.args, 'token') ?? ctx.env.token;
  const email = flagString(ctx.args, 'email');
  if (!token && !email) throw new CliError('pass --token <token>, or --email <email> with the password on stdin');
  if (!token) {
    const password = (await readStdin()).split(/\r?\n/)[0] ?? '';
    if (!password) throw new CliError('no password on stdin');
    const session = await new ApiClient(apiUrl, undefined).request<{ accessToken: string }>('POST', '/auth/login', { json: { email, password } });
    const made = await new ApiClient(apiUrl, session.accessToken).request<{ secret: string }>('POST', '/auth/tokens', { json: { name: 'plat cli' } });
    token = made.secret;
  }
  const me = await new ApiClient(apiUrl, token).me();
  const file = await saveLogin(ctx.env.configDir, { apiUrl, token, email: me.user.email });
  ctx.out.note(`Signed in as ${me.user.email}; token saved in ${file}`);
}

export async function logout(ctx: CommandContext): Promise<void> {
  await forgetLogin(ctx.env.configDir);
  ctx.out.note('Signed out: the saved token is forgotten (revoke it in the dashboard to end it everywhere)');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
