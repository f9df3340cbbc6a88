import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';

/**
 * Erases this process's initial environment block, the bytes `/proc/<pid>/environ` shows.
 *
 * Why: the user's commands run as the same uid as the build-server, and any process may read
 * `/proc/<pid>/environ` of another process of its uid. Deleting BUILD_TASK from `process.env`
 * is not enough: unsetenv drops the pointer but the bytes stay where the kernel put them at
 * exec, and the kernel serves that range. So first every variable still wanted is copied to
 * the heap (setenv allocates a fresh string), then the original range is overwritten with
 * zeros through `/proc/self/mem`, which a process may always write for itself.
 *
 * `forget` names the variables dropped from `process.env` first (they are not copied back).
 * Returns false where the bytes cannot be erased (not Linux, /proc not mounted); the caller logs it.
 */
export async function scrubInitialEnvironment(forget: readonly string[]): Promise<boolean> {
  for (const name of forget) delete process.env[name];
  let stat: string;
  try {
    stat = await readFile('/proc/self/stat', 'utf8');
  } catch {
    return false;
  }
  // Fields after `(comm)` start at field 3; env_start and env_end are fields 50 and 51 (Linux 3.5+).
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
  const start = Number(fields[50 - 3]);
  const end = Number(fields[51 - 3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) return false;

  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    delete process.env[name];
    process.env[name] = value;
  }

  let handle: FileHandle | undefined;
  try {
    handle = await open('/proc/self/mem', 'r+');
    await handle.write(Buffer.alloc(end - start), 0, end - start, start);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
  const after = await readFile('/proc/self/environ').catch(() => null);
  return after?.every((byte) => byte === 0) ?? false;
}

/**
 * Ends the child processes this process has now. Call it right after the scrub, before the
 * build starts any process of its own: a child started earlier inherited the original
 * environment and keeps it in its own `/proc/<pid>/environ`. The one such child in practice is
 * the esbuild service that `tsx` starts to compile the entry point on a cold cache; every
 * module is loaded by then, so nothing needs it again. Returns the pids it ended.
 */
export async function endEarlierChildren(): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const ended: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== process.pid) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      ended.push(Number(entry));
    } catch {
      /* already gone */
    }
  }
  return ended;
}

/** O_CLOEXEC as /proc/<pid>/fdinfo shows it (octal flags). */
const O_CLOEXEC = 0o2000000;

/**
 * Closes every descriptor this process inherited without close-on-exec, except `keep` (stdio
 * and the event pipe). Node opens its own descriptors with O_CLOEXEC, but what the parent
 * passed down (a test runner's pipe, a supervisor's socket) would otherwise be inherited by
 * every process this one starts. The event pipe itself is covered in every spawn's stdio.
 * Returns the descriptors it closed.
 */
export async function closeInheritedDescriptors(keep: readonly number[]): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc/self/fdinfo');
  } catch {
    return [];
  }
  const closed: number[] = [];
  const { closeSync } = await import('node:fs');
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || keep.includes(fd)) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => null);
    const flags = info ? /^flags:\s+([0-7]+)/m.exec(info)?.[1] : undefined;
    if (flags === undefined || (parseInt(flags, 8) & O_CLOEXEC) !== 0) continue;
    try {
      closeSync(fd);
      closed.push(fd);
    } catch {
      /* gone meanwhile */
    }
  }
  return closed;
}
