import { mkdir } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { simpleGit } from 'simple-git';
import { validateGitUrl } from '@platform/contracts';

export interface CloneResult {
  commit: string;
  branch: string | null;
}

/** Shallow clone of exactly one ref or commit into `dir`. */
export async function cloneRepository(options: {
  url: string;
  dir: string;
  ref?: string;
  commit?: string;
  env: Record<string, string>;
  allowLocal: boolean;
}): Promise<CloneResult> {
  const url = validateGitUrl(options.url, { allowLocal: options.allowLocal });
  // A local path clones through file:// so that --depth is honoured.
  const remote = isAbsolute(url) ? `file://${url}` : url;
  if (options.ref !== undefined && (options.ref.startsWith('-') || /[\s\0~^:?*[\\]|\.\.|@\{/.test(options.ref))) {
    throw new Error(`invalid git ref ${JSON.stringify(options.ref)}`);
  }
  await mkdir(options.dir, { recursive: true });
  const git = simpleGit({ baseDir: options.dir }).env(options.env);
  await git.init();
  await git.addRemote('origin', remote);
  const target = options.commit ?? (options.ref ? options.ref : 'HEAD');
  await git.raw(['fetch', '--depth', '1', '--no-tags', 'origin', '--', target]);
  await git.raw(['checkout', '--quiet', '--detach', 'FETCH_HEAD']);
  const commit = (await git.revparse(['HEAD'])).trim();
  return { commit, branch: options.commit ? null : (options.ref ?? null) };
}
