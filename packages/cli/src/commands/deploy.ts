import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Deployment } from '@platform/contracts';
import type { ApiClient } from '../api.ts';
import { flagString } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { hashFiles, listFiles, type LocalFile } from '../files.ts';
import { readLink, requireLink } from '../project-link.ts';
import { buildLocally } from './prebuilt.ts';

export const DEPLOY_HELP = `plat deploy [dir] [--prod] [--prebuilt] [--project <id>] [--json]

Uploads the folder (default: the current one) and deploys it: only files whose content the
project does not have yet are sent. Progress goes to stderr; the deployment's URL alone to
stdout, so url=$(plat deploy) works. Exits non-zero when the deployment ends in ERROR or
CANCELED.

  --prod        deploy to production (the project's production hostname moves to it)
  --prebuilt    build here first (vercel.json buildCommand, else the package.json build
                script), then upload the output folder (vercel.json outputDirectory, else
                dist, build, out or public)
  --project     a project id, over the folder's link (.plat/project.json)
  --json        print the deployment and upload counts as JSON instead of the URL
  --no-wait     return once the deployment is created, without waiting for READY

Files matching .platignore (gitignore syntax) are left out, as are .git, node_modules,
.plat and .env files. vercel.json at the folder's root configures routing, as in a build.`;

/** Entries per "which are missing" request: well below the API's body limit. */
const CHECK_BATCH = 5_000;
const UPLOAD_CONCURRENCY = 8;
const WAIT_TIMEOUT_MS = 10 * 60_000;

export async function deploy(ctx: CommandContext): Promise<number> {
  const dir = resolve(ctx.cwd, ctx.args.positional[0] ?? '.');
  const link = (await readLink(dir)) ?? (await requireLink(ctx.cwd, flagString(ctx.args, 'project')));
  const projectId = flagString(ctx.args, 'project') ?? link.projectId;
  const api = await ctx.api();
  const source = ctx.args.flags.get('prebuilt') === true ? await buildLocally(dir, ctx.out) : { dir, extra: [] };

  const listed = await listFiles(source.dir, (path, why) => ctx.out.note(`Skipped ${path}: ${why}`));
  const all = [...listed, ...source.extra];
  if (all.length === 0) throw new CliError(`nothing to deploy in ${source.dir}`);
  const files = await hashFiles(all, (done) => ctx.out.progress('Hashing  ', done, all.length));
  const missing = await missingContents(api, projectId, files);
  const uploaded = await uploadMissing(api, projectId, files, missing, ctx);

  const target = ctx.args.flags.get('prod') === true ? 'production' : 'preview';
  const created = await api.request<{ deployment: Deployment }>('POST', `/projects/${encodeURIComponent(projectId)}/deployments/upload`, {
    json: { files: files.map((f) => ({ path: f.path, hash: f.hash, size: f.size })), target },
  });
  ctx.out.note(`Uploaded ${uploaded} of ${files.length} files (the rest were stored already); deployment ${created.deployment.id} created`);
  const final = ctx.args.flags.get('no-wait') === true ? created.deployment : await waitForEnd(api, created.deployment.id, ctx);
  if (ctx.json) ctx.out.json({ deployment: final, files: files.length, uploaded });
  else ctx.out.result(final.url);
  if (final.status === 'ERROR' || final.status === 'CANCELED') {
    ctx.out.error(`deployment ${final.id} ended ${final.status}${final.errorMessage ? `: ${final.errorMessage}` : ''}`);
    return 1;
  }
  return 0;
}

/** The hashes the project lacks, asked in batches. */
async function missingContents(api: ApiClient, projectId: string, files: readonly LocalFile[]): Promise<Set<string>> {
  const missing = new Set<string>();
  for (let i = 0; i < files.length; i += CHECK_BATCH) {
    const batch = files.slice(i, i + CHECK_BATCH).map((f) => ({ hash: f.hash, size: f.size }));
    const answer = await api.request<{ missing: string[] }>('POST', `/projects/${encodeURIComponent(projectId)}/uploads/missing`, { json: { files: batch } });
    for (const hash of answer.missing) missing.add(hash);
  }
  return missing;
}

/** Uploads each missing content once (by its first path), a few at a time; returns how many. */
async function uploadMissing(
  api: ApiClient,
  projectId: string,
  files: readonly LocalFile[],
  missing: ReadonlySet<string>,
  ctx: CommandContext,
): Promise<number> {
  const byHash = new Map<string, LocalFile>();
  for (const file of files) if (missing.has(file.hash) && !byHash.has(file.hash)) byHash.set(file.hash, file);
  const queue = [...byHash.values()];
  let next = 0;
  let done = 0;
  if (queue.length > 0) ctx.out.progress('Uploading', 0, queue.length);
  // The first failure stops every worker before it is reported: nothing prints after the error.
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < queue.length) {
      const file = queue[next++]!;
      try {
        const body = await readFile(file.absolute);
        await api.request('POST', `/projects/${encodeURIComponent(projectId)}/uploads/${file.hash}`, { body, query: { path: file.path } });
      } catch (err) {
        failure ??= err instanceof CliError ? new CliError(`${file.path}: ${err.message}`) : err;
        return;
      }
      ctx.out.progress('Uploading', ++done, queue.length);
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker));
  if (failure !== undefined) throw failure;
  return queue.length;
}

/** Polls the deployment until it has ended (READY, ERROR, CANCELED). */
async function waitForEnd(api: ApiClient, deploymentId: string, ctx: CommandContext): Promise<Deployment> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  let last = '';
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    const deployment = await api.deployment(deploymentId);
    if (deployment.status !== last) {
      last = deployment.status;
      ctx.out.note(`Deployment ${deployment.id}: ${deployment.status}`);
    }
    if (['READY', 'ERROR', 'CANCELED'].includes(deployment.status)) return deployment;
    if (Date.now() > deadline)
      throw new CliError(`deployment ${deploymentId} is still ${deployment.status} after 10 minutes; follow it with plat logs ${deploymentId} --follow`);
    await sleep(delay);
  }
}
