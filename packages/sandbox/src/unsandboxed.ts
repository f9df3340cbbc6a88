import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import type { Command } from '@platform/contracts';
import type { SandboxedProcess, SandboxExit, SpawnOptions } from './sandbox.ts';

/**
 * Runs a command without namespaces: in its own process group, as `uid` when given (the `uid`
 * isolation, in a container whose kernel allows no user namespaces) or as the supervisor's own
 * uid (`none`, single-user mode). Ending it kills its process group, every descendant found in
 * /proc and, with a uid of its own, every process of that uid: a process that left the group
 * (setsid) and its parent (double fork) still goes.
 */
export async function spawnUnsandboxed(command: Command, options: SpawnOptions & { uid?: number; gid?: number }): Promise<SandboxedProcess> {
  const [program, ...args] = command;
  const child = spawn(program!, args, {
    cwd: options.cwd,
    env: options.env,
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
  });
  const exited = new Promise<SandboxExit>((resolve) => {
    child.once('error', (err) => resolve({ exitCode: null, signal: null, spawnError: err.message }));
    child.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
  });
  const kill = async () => {
    await killTree(child.pid);
    if (options.uid !== undefined) await killUid(options.uid);
  };
  // Nothing may outlive its step: once the command ends, whatever it left running goes too.
  const settled = exited.then(async (result) => {
    await kill();
    return result;
  });
  return { stdout: child.stdout!, stderr: child.stderr!, exited: settled, kill, limitReason: () => undefined };
}

/** Kills the process group and every descendant found in /proc (a process that started its own group still dies). */
export async function killTree(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const victims = new Set<number>([pid, ...(await descendantsOf(pid))]);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is gone */
  }
  for (const victim of victims) {
    try {
      process.kill(victim, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** SIGKILLs every process whose real uid is `uid` (the build's own uid: nothing else runs as it). */
export async function killUid(uid: number): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const pids = await processesOf(uid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

async function processesOf(uid: number): Promise<number[]> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const out: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const status = await readFile(`/proc/${e}/status`, 'utf8').catch(() => '');
        const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
        if (real !== undefined && Number(real) === uid && Number(e) !== process.pid) out.push(Number(e));
      }),
  );
  return out;
}

async function descendantsOf(root: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return []; // not Linux: the process group kill has to do
  }
  const children = new Map<number, number[]>();
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => null);
        if (!stat) return;
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so parse after the last ")".
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const list = children.get(ppid) ?? [];
        list.push(Number(e));
        children.set(ppid, list);
      }),
  );
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const child of children.get(stack.pop()!) ?? []) {
      out.push(child);
      stack.push(child);
    }
  }
  return out;
}
