import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LINK_DIR } from './config.ts';
import { CliError } from './errors.ts';

export interface ProjectLink {
  projectId: string;
  slug: string;
}

const fileOf = (dir: string) => join(dir, LINK_DIR, 'project.json');

/** The project a folder is linked to (`.plat/project.json`), or null. */
export async function readLink(dir: string): Promise<ProjectLink | null> {
  try {
    const link = JSON.parse(await readFile(fileOf(dir), 'utf8')) as ProjectLink;
    return typeof link.projectId === 'string' ? link : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`${fileOf(dir)} is not a valid link file: run plat link again`);
  }
}

export async function writeLink(dir: string, link: ProjectLink): Promise<string> {
  await mkdir(join(dir, LINK_DIR), { recursive: true });
  // The link folder is never deployed (it is ignored by default), and says why it exists.
  await writeFile(join(dir, LINK_DIR, 'README.txt'), 'This folder links the directory to a project (plat link). It is never uploaded.\n');
  await writeFile(fileOf(dir), `${JSON.stringify(link, null, 2)}\n`);
  return fileOf(dir);
}

/** The linked project, or a CliError saying how to link one. */
export async function requireLink(dir: string, override: string | undefined): Promise<ProjectLink> {
  if (override) return { projectId: override, slug: override };
  const link = await readLink(dir);
  if (!link) throw new CliError(`${dir} is not linked to a project: run plat link --project <slug or id>, or pass --project`);
  return link;
}
