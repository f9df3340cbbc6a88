import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './errors.ts';

export interface SavedLogin {
  apiUrl: string;
  token: string;
  email?: string;
}

const fileOf = (configDir: string) => join(configDir, 'auth.json');

/** What `login` saved; null when nothing was. */
export async function readLogin(configDir: string): Promise<SavedLogin | null> {
  let text: string;
  try {
    text = await readFile(fileOf(configDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const saved = JSON.parse(text) as SavedLogin;
    return typeof saved.token === 'string' && typeof saved.apiUrl === 'string' ? saved : null;
  } catch {
    throw new CliError(`${fileOf(configDir)} is not valid JSON: run plat login again`);
  }
}

/** Saves the token readable by this user alone: the folder 0700, the file 0600 (set again if it existed). */
export async function saveLogin(configDir: string, login: SavedLogin): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const file = fileOf(configDir);
  await writeFile(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export async function forgetLogin(configDir: string): Promise<void> {
  await rm(fileOf(configDir), { force: true });
}
