import type { Deployment } from '@platform/contracts';
import { flagString } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { requireLink } from '../project-link.ts';

export const LS_HELP = `plat ls [--project <id>] [--limit <n>] [--json]

Lists the linked project's deployments, newest first: id, status, target, age and URL.`;

export const PROMOTE_HELP = `plat promote <deployment id> [--json]

Serves a READY deployment at the project's production hostname.`;

export const ROLLBACK_HELP = `plat rollback [deployment id] [--project <id>] [--json]

Points production back at an earlier READY deployment: the one given, else the newest READY
production deployment older than the one production serves now. Nothing is rebuilt.`;

export async function ls(ctx: CommandContext): Promise<void> {
  const link = await requireLink(ctx.cwd, flagString(ctx.args, 'project'));
  const limit = flagString(ctx.args, 'limit') ?? '20';
  if (!/^\d+$/.test(limit)) throw new CliError('--limit must be a number');
  const rows = await (await ctx.api()).deployments(link.projectId, { limit });
  if (ctx.json) return ctx.out.json({ deployments: rows });
  if (rows.length === 0) return ctx.out.note('No deployments yet: plat deploy');
  ctx.out.result(table([['ID', 'STATUS', 'TARGET', 'AGE', 'URL'], ...rows.map((d) => [d.id, d.status, d.target, age(d.createdAt), d.url])]));
}

export async function promote(ctx: CommandContext): Promise<void> {
  const id = ctx.args.positional[0];
  if (!id) throw new CliError('name the deployment: plat promote <deployment id>');
  const answer = await (await ctx.api()).request<{ deployment: Deployment; productionUrl: string }>('POST', `/deployments/${encodeURIComponent(id)}/promote`);
  if (ctx.json) return ctx.out.json(answer);
  ctx.out.note(`Production now serves ${answer.deployment.id}`);
  ctx.out.result(answer.productionUrl);
}

export async function rollback(ctx: CommandContext): Promise<void> {
  const api = await ctx.api();
  let id = ctx.args.positional[0];
  if (!id) {
    const link = await requireLink(ctx.cwd, flagString(ctx.args, 'project'));
    const project = await api.request<{ project: { productionDeploymentId?: string | null } }>('GET', `/projects/${encodeURIComponent(link.projectId)}`);
    const current = project.project.productionDeploymentId ?? null;
    const ready = await api.deployments(link.projectId, { status: 'READY', limit: '100' });
    const production = ready.filter((d) => d.target === 'production');
    const at = production.findIndex((d) => d.id === current);
    const previous = at === -1 ? production[1] : production[at + 1];
    if (!previous) throw new CliError('no earlier READY production deployment to roll back to');
    id = previous.id;
  }
  const answer = await api.request<{ deployment: Deployment; productionUrl: string }>('POST', `/deployments/${encodeURIComponent(id)}/promote`);
  if (ctx.json) return ctx.out.json(answer);
  ctx.out.note(`Rolled back: production now serves ${answer.deployment.id}`);
  ctx.out.result(answer.productionUrl);
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

function age(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
