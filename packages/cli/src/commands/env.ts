import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { flagString } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { requireLink } from '../project-link.ts';
import { table } from './deployments.ts';

export const ENV_HELP = `plat env ls [--json]
plat env add <KEY> [value] [--target production|preview]   (value from stdin when left out)
plat env rm <KEY> [--target production|preview]
plat env pull [file] [--target production|preview]

The linked project's build-time environment variables. Values are write-only on this
platform: the API never returns them, so ls shows keys and targets, and pull writes a file
(default .env.plat) listing each key of the target with an empty value, ready to fill in
locally; it never holds a secret.

  --target   production or preview (default: both for add and rm, preview for pull)`;

const TARGETS = ['production', 'preview'] as const;

export async function env(ctx: CommandContext): Promise<void> {
  const [verb, ...rest] = ctx.args.positional;
  const link = await requireLink(ctx.cwd, flagString(ctx.args, 'project'));
  const api = await ctx.api();
  const base = `/projects/${encodeURIComponent(link.projectId)}/env`;
  const target = flagString(ctx.args, 'target');
  if (target !== undefined && !TARGETS.includes(target as (typeof TARGETS)[number])) throw new CliError('--target must be production or preview');
  switch (verb) {
    case 'ls': {
      const vars = await api.envVars(link.projectId);
      if (ctx.json) return ctx.out.json({ envVars: vars });
      if (vars.length === 0) return ctx.out.note('No environment variables');
      return ctx.out.result(table([['KEY', 'TARGET', 'UPDATED'], ...vars.map((v) => [v.key, v.target, v.updatedAt])]));
    }
    case 'add': {
      const key = rest[0];
      if (!key) throw new CliError('name the variable: plat env add <KEY> [value]');
      const value = rest[1] ?? (await readStdin()).replace(/\r?\n$/, '');
      await api.request('POST', base, { json: { key, value, ...(target ? { targets: [target] } : {}) } });
      return ctx.out.note(`Added ${key} (${target ?? 'production, preview'})`);
    }
    case 'rm': {
      const key = rest[0];
      if (!key) throw new CliError('name the variable: plat env rm <KEY>');
      const matching = (await api.envVars(link.projectId)).filter((v) => v.key === key && (target === undefined || v.target === target));
      if (matching.length === 0) throw new CliError(`${key} is not set${target ? ` for ${target}` : ''}`);
      for (const v of matching) await api.request('DELETE', `${base}/${encodeURIComponent(v.id)}`);
      return ctx.out.note(`Removed ${key} (${matching.map((v) => v.target).join(', ')})`);
    }
    case 'pull': {
      const file = resolve(ctx.cwd, rest[0] ?? '.env.plat');
      const wanted = target ?? 'preview';
      const keys = (await api.envVars(link.projectId)).filter((v) => v.target === wanted).map((v) => v.key);
      const lines = [`# ${link.slug} ${wanted} variables (plat env pull). Values are write-only on the platform: fill them in.`, ...keys.map((k) => `${k}=`)];
      await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
      return ctx.out.note(`Wrote ${keys.length} keys to ${file}`);
    }
    default:
      throw new CliError(`unknown env command ${verb ?? '(none)'}: use ls, add, rm or pull`);
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('give the value as an argument or on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
