import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';

/** A file of the repository is a link to somewhere else (the supervisor would read it with its own rights). */
export class RepoLinkError extends Error {}

/**
 * Reads a file of the cloned repository for the supervisor (package.json, vercel.json, a
 * lockfile). The checkout is the tenant's: a `package.json` that links to the platform's key
 * would otherwise be read with the supervisor's rights, and its first characters shown in a
 * JSON error. Follows links, and refuses a file whose real path is outside `root`. ENOENT as
 * readFile throws it.
 */
export async function readRepoFile(root: string, file: string): Promise<string> {
  const [realRoot, real] = await Promise.all([realpath(root), realpath(file)]);
  const rel = relative(realRoot, real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new RepoLinkError(`${relative(root, file) || file} is a link to a file outside the repository`);
  return readFile(real, 'utf8');
}
