import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';

/** A file of the repository is a link to somewhere else (the supervisor would read it with its own rights). */
export class RepoLinkError extends Error {}

/**
 * The real path of `path`, links followed, or null when that is outside `root`. The checkout is
 * the tenant's: whatever the supervisor reads or walks in it (package.json, vercel.json, a
 * lockfile, the output folder) must really be in it. Throws ENOENT as realpath does.
 */
export async function realPathInRepo(root: string, path: string): Promise<string | null> {
  const [realRoot, real] = await Promise.all([realpath(root), realpath(path)]);
  const rel = relative(realRoot, real);
  return rel.startsWith('..') || isAbsolute(rel) ? null : real;
}

/**
 * Reads a file of the cloned repository for the supervisor. A `package.json` that links to the
 * platform's key would otherwise be read with the supervisor's rights, and its first
 * characters shown in a JSON error.
 */
export async function readRepoFile(root: string, file: string): Promise<string> {
  const real = await realPathInRepo(root, file);
  if (real === null) throw new RepoLinkError(`${relative(root, file) || file} is a link to a file outside the repository`);
  return readFile(real, 'utf8');
}
