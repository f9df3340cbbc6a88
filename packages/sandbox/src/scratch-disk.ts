import { open, readlink, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runProgram } from './programs.ts';

export interface ScratchDisk {
  readonly dir: string;
  readonly bytes: number;
  /** Bytes still free: a build that ends with this near zero ran out of disk. */
  free(): Promise<number>;
  unmount(): Promise<void>;
}

/**
 * A size-capped work folder on disk: a sparse file of `bytes` formatted ext4 and loop-mounted
 * at `dir` (about 30 ms here). A tmpfs would do too, but its pages count as memory: a build
 * with a 4 GiB folder and a 2 GiB memory limit could use only 2 GiB of either. Mounted only
 * in a mount namespace of this process's own (the local runner starts the supervisor in one),
 * so the mount, and the loop device with it, go away when the supervisor does, however it ends.
 * Returns null where that cannot be done (not root, the host's mount namespace, no loop devices).
 */
export async function mountScratchDisk(dir: string, image: string, bytes: number): Promise<ScratchDisk | null> {
  if (process.getuid?.() !== 0 || !(await inPrivateMountNamespace())) return null;
  try {
    const file = await open(image, 'w', 0o600);
    await file.truncate(bytes);
    await file.close();
    await runProgram('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-E', 'lazy_itable_init=1,nodiscard', '-m', '0', image]);
    await runProgram('mount', ['-o', 'loop,nosuid,nodev', '--', image, dir]);
  } catch {
    await rm(image, { force: true }).catch(() => {});
    return null;
  }
  await rmdir(join(dir, 'lost+found')).catch(() => {});
  return {
    dir,
    bytes,
    async free() {
      const { statfs } = await import('node:fs/promises');
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    },
    async unmount() {
      await runProgram('umount', ['--lazy', '--', dir]).catch(() => {});
      await rm(image, { force: true }).catch(() => {});
    },
  };
}

/** A mount namespace apart from the parent's (the runner's): what `unshare --mount` gave this process. */
async function inPrivateMountNamespace(): Promise<boolean> {
  try {
    const [own, parent] = await Promise.all([readlink('/proc/self/ns/mnt'), readlink(`/proc/${process.ppid}/ns/mnt`)]);
    return own !== parent;
  } catch {
    return false;
  }
}
