import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the sandbox's helpers (bwrap, slirp4netns, nft, nsenter, mkfs.ext4, mount, chown) are
 * looked for: the system's own folders, never the caller's PATH, so a folder early on a
 * service's PATH cannot stand in for a program the supervisor runs with its rights.
 */
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of a system program, or the bare name when none is found (spawn reports ENOENT). */
export function program(name: string): string {
  for (const dir of SYSTEM_DIRS) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      /* next */
    }
  }
  return name;
}

/** Runs a system program to completion; rejects with its stderr's words. */
export function runProgram(name: string, args: string[], timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program(name), args, { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${name}: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}
