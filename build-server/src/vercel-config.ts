import { join } from 'node:path';
import { compileVercelConfig, VercelConfigError, type ProjectConfig } from '@platform/contracts';
import { readRepoFile, RepoLinkError } from './repo-files.ts';

export { compileVercelConfig, VercelConfigError, vercelJsonSchema, type ProjectConfig } from '@platform/contracts';

/** Reads and validates `vercel.json` in `dir`; null when there is none. Throws VercelConfigError naming the bad field. */
export async function readVercelConfig(dir: string): Promise<ProjectConfig | null> {
  let text: string;
  try {
    text = await readRepoFile(dir, join(dir, 'vercel.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (err instanceof RepoLinkError) throw new VercelConfigError(err.message);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new VercelConfigError(`vercel.json is not valid JSON: ${(err as Error).message}`);
  }
  return compileVercelConfig(json);
}
