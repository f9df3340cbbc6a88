import { flagString } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { writeLink } from '../project-link.ts';

export const LINK_HELP = `plat link --project <slug, name or id> [--cwd <dir>]

Links the folder to one of your projects: writes .plat/project.json, which later commands
(deploy, ls, env, rollback) read. The .plat folder is never uploaded.`;

export async function link(ctx: CommandContext): Promise<void> {
  const wanted = flagString(ctx.args, 'project') ?? ctx.args.positional[0];
  if (!wanted) throw new CliError('name the project: plat link --project <slug, name or id>');
  const projects = await (await ctx.api()).projects();
  const project = projects.find((p) => p.id === wanted || p.slug === wanted || p.name === wanted);
  if (!project) throw new CliError(`no project of yours is called ${wanted} (you have: ${projects.map((p) => p.slug).join(', ') || 'none'})`);
  const file = await writeLink(ctx.cwd, { projectId: project.id, slug: project.slug });
  if (ctx.json) ctx.out.json({ project: { id: project.id, slug: project.slug }, linkFile: file });
  else ctx.out.note(`Linked ${ctx.cwd} to ${project.slug} (${file})`);
}
