import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { IGNORE_FILE, LINK_DIR } from './config.ts';
import { CliError } from './errors.ts';

/** A file to deploy before it is hashed. */
export type LocalFileInput = Omit<LocalFile, 'hash'>;

export interface LocalFile {
  /** `/`-separated, relative to the deployed folder. */
  path: string;
  absolute: string;
  size: number;
  hash: string;
}

/** Never uploaded, whatever the ignore file says: version control, dependencies, the link, secrets by convention. */
const ALWAYS_IGNORED = ['.git', '.hg', '.svn', 'node_modules', LINK_DIR, IGNORE_FILE, '.DS_Store', '.env', '.env.*', '!.env.example'];

/** The folder's ignore rules: the defaults, then `.platignore` (gitignore syntax) at its root. */
export async function ignoreRules(dir: string): Promise<Ignore> {
  const rules = ignore().add(ALWAYS_IGNORED);
  try {
    rules.add(await readFile(join(dir, IGNORE_FILE), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return rules;
}

/** Every regular file to deploy, sorted; symbolic links are skipped (they could point anywhere). */
export async function listFiles(dir: string, onSkip: (path: string, why: string) => void): Promise<Omit<LocalFile, 'hash'>[]> {
  const info = await lstat(dir).catch(() => null);
  if (!info) throw new CliError(`no such folder: ${dir}`);
  if (!info.isDirectory()) throw new CliError(`not a folder: ${dir}`);
  const rules = await ignoreRules(dir);
  const out: Omit<LocalFile, 'hash'>[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const absolute = join(current, entry.name);
      const path = relative(dir, absolute).split(sep).join('/');
      if (rules.ignores(entry.isDirectory() ? `${path}/` : path)) continue;
      if (entry.isDirectory()) await walk(absolute);
      else if (entry.isSymbolicLink()) onSkip(path, 'symbolic links are not uploaded');
      else if (entry.isFile()) out.push({ path, absolute, size: (await lstat(absolute)).size });
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** sha256 of each file, a few at a time. */
export async function hashFiles(files: readonly Omit<LocalFile, 'hash'>[], onProgress: (done: number) => void): Promise<LocalFile[]> {
  const out: LocalFile[] = new Array(files.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      out[i] = {
        ...file,
        hash: createHash('sha256')
          .update(await readFile(file.absolute))
          .digest('hex'),
      };
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}
