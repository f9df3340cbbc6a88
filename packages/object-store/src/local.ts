import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { assertValidKey, type ObjectInfo, type ObjectStore } from './object-store.ts';

/**
 * The embedded driver: one file per key under `rootDir`. Writes go to a temporary file in
 * the same folder and are renamed into place, so a reader never sees half an object.
 * Content type and cache policy are not stored: the deployment manifest carries them.
 */
export function createLocalObjectStore(options: { rootDir: string }): ObjectStore {
  const root = options.rootDir;
  const pathOf = (key: string): string => {
    assertValidKey(key);
    return join(root, ...key.split('/'));
  };

  /** The prefix may end in the middle of a name (`deployments/ab`), so its folder is walked. */
  const listUnder = async (prefix: string): Promise<string[]> => {
    const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys: string[] = [];
    await walk(dir ? pathOf(dir) : root, async (file) => {
      const key = relative(root, file).split(sep).join('/');
      if (key.startsWith(prefix) && !key.endsWith('.tmp')) keys.push(key);
    });
    return keys;
  };

  return {
    async put(key, body, options) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        if (body instanceof Readable) await pipeline(body, createWriteStream(tmp));
        else await writeFile(tmp, body);
        if (options?.ifAbsent) await linkUnlessPresent(tmp, target);
        else await rename(tmp, target);
      } finally {
        await rm(tmp, { force: true });
      }
    },

    async get(key, opts) {
      const path = pathOf(key);
      let handle: FileHandle | undefined;
      try {
        handle = await open(path, 'r');
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
      const { size } = await handle.stat();
      const range = opts?.range;
      if (range && range.start >= size) {
        // Nothing to read; the size still lets the caller answer 416.
        await handle.close();
        return { body: Readable.from([]), size };
      }
      const body = createReadStream('', {
        fd: handle,
        ...(range ? { start: range.start, end: Math.min(range.end, size - 1) } : {}),
      });
      return { body, size };
    },

    async getBuffer(key) {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async list(prefix) {
      return (await listUnder(prefix)).sort();
    },

    listDetailed: async (prefix) => statAll(root, (await listUnder(prefix)).sort()),
    listSizes: async (prefix) => new Map((await statAll(root, await listUnder(prefix))).map((o) => [o.key, o.size])),

    async delete(keys) {
      await Promise.all(keys.map((key) => rm(pathOf(key), { force: true })));
    },
  };
}

/** `link` fails when the target exists, atomically: the existing object stays as it was. */
async function linkUnlessPresent(tmp: string, target: string): Promise<void> {
  try {
    await link(tmp, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Size and write time of each key (one deleted meanwhile is left out: it is not there any more). */
async function statAll(root: string, keys: readonly string[]): Promise<ObjectInfo[]> {
  const infos: ObjectInfo[] = [];
  for (const key of keys) {
    try {
      const s = await stat(join(root, ...key.split('/')));
      infos.push({ key, size: s.size, modifiedMs: s.mtimeMs });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return infos;
}

async function walk(dir: string, visit: (file: string) => Promise<void>): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, visit);
    else if (entry.isFile()) await visit(full);
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
