import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = '/sys/fs/cgroup';
/** Every build's cgroup lives under this group, in each hierarchy. */
const PARENT = 'platform-builds';

export interface CgroupLimits {
  memoryBytes?: number;
  pids?: number;
  cpus?: number;
}

/** What the build's processes used and ran into, counted since the cgroup was made. */
export interface CgroupUsage {
  /** Processes the kernel's OOM killer ended for exceeding the memory limit. */
  oomKills: number;
  /** Forks refused because the process limit was reached. */
  pidsRefused: number;
  /** CPU time of every process, together. */
  cpuSeconds: number;
}

/** The control group that holds every process of one build, so limits apply to them together. */
export interface BuildCgroup {
  readonly version: 1 | 2;
  add(pid: number): Promise<void>;
  usage(): Promise<CgroupUsage>;
  /** SIGKILLs every process still in the group. */
  killAll(): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Makes a cgroup for one build with the given limits, on cgroup v2 (unified) or v1 (separate
 * memory, pids and cpu hierarchies, as on these Debian machines). Returns null where this
 * process may not write cgroups (not root, no delegation): the caller says the limits are off.
 */
export async function createBuildCgroup(name: string, limits: CgroupLimits): Promise<BuildCgroup | null> {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) throw new Error(`invalid cgroup name ${JSON.stringify(name)}`);
  try {
    if (await exists(join(ROOT, 'cgroup.controllers'))) return await createV2(name, limits);
    if (await exists(join(ROOT, 'memory', 'cgroup.procs'))) return await createV1(name, limits);
  } catch {
    return null;
  }
  return null;
}

async function createV1(name: string, limits: CgroupLimits): Promise<BuildCgroup> {
  // `cpu` and `cpuacct` are often one hierarchy mounted twice; the same folder then appears twice.
  const controllers = ['memory', 'pids', 'cpu', 'cpuacct'];
  const dirs = new Map<string, string>();
  for (const controller of controllers) {
    if (!(await exists(join(ROOT, controller, 'cgroup.procs')))) continue;
    const dir = join(ROOT, controller, PARENT, name);
    await mkdir(dir, { recursive: true });
    dirs.set(controller, dir);
  }
  const memory = dirs.get('memory');
  const pids = dirs.get('pids');
  const cpu = dirs.get('cpu');
  const cpuacct = dirs.get('cpuacct') ?? cpu;
  if (!memory || !pids) throw new Error('cgroup v1 without memory or pids controller');
  if (limits.memoryBytes !== undefined) {
    await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // Swap counts too, where the kernel accounts it: a build cannot page its way past the limit.
    await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => {});
  }
  if (limits.pids !== undefined) await writeFile(join(pids, 'pids.max'), String(limits.pids));
  if (limits.cpus !== undefined && cpu) {
    const period = 100_000;
    await writeFile(join(cpu, 'cpu.cfs_period_us'), String(period));
    await writeFile(join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(limits.cpus * period))));
  }
  const all = [...new Set(dirs.values())];
  return {
    version: 1,
    async add(pid) {
      for (const dir of all) await writeFile(join(dir, 'cgroup.procs'), String(pid));
    },
    async usage() {
      const oom = await readFile(join(memory, 'memory.oom_control'), 'utf8').catch(() => '');
      const failcnt = Number(await readFile(join(memory, 'memory.failcnt'), 'utf8').catch(() => '0'));
      const oomKills = Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? (failcnt > 0 && /under_oom 1/.test(oom) ? 1 : 0));
      const events = await readFile(join(pids, 'pids.events'), 'utf8').catch(() => '');
      const cpuNs = cpuacct ? Number(await readFile(join(cpuacct, 'cpuacct.usage'), 'utf8').catch(() => '0')) : 0;
      return { oomKills, pidsRefused: Number(/max (\d+)/.exec(events)?.[1] ?? 0), cpuSeconds: cpuNs / 1e9 };
    },
    killAll: () => killProcs(all),
    remove: () => removeDirs(all, () => killProcs(all)),
  };
}

async function createV2(name: string, limits: CgroupLimits): Promise<BuildCgroup> {
  const parent = join(ROOT, PARENT);
  await mkdir(parent, { recursive: true });
  // Limits on a child need the controllers enabled in its parent.
  await writeFile(join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => writeFile(join(parent, 'cgroup.subtree_control'), '+memory +pids'));
  const dir = join(parent, name);
  await mkdir(dir, { recursive: true });
  if (limits.memoryBytes !== undefined) {
    await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
    await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
  }
  if (limits.pids !== undefined) await writeFile(join(dir, 'pids.max'), String(limits.pids));
  if (limits.cpus !== undefined) await writeFile(join(dir, 'cpu.max'), `${Math.max(1000, Math.round(limits.cpus * 100_000))} 100000`).catch(() => {});
  return {
    version: 2,
    async add(pid) {
      await writeFile(join(dir, 'cgroup.procs'), String(pid));
    },
    async usage() {
      const memoryEvents = await readFile(join(dir, 'memory.events'), 'utf8').catch(() => '');
      const pidsEvents = await readFile(join(dir, 'pids.events'), 'utf8').catch(() => '');
      const cpuStat = await readFile(join(dir, 'cpu.stat'), 'utf8').catch(() => '');
      return {
        oomKills: Number(/oom_kill (\d+)/.exec(memoryEvents)?.[1] ?? 0),
        pidsRefused: Number(/max (\d+)/.exec(pidsEvents)?.[1] ?? 0),
        cpuSeconds: Number(/usage_usec (\d+)/.exec(cpuStat)?.[1] ?? 0) / 1e6,
      };
    },
    async killAll() {
      // cgroup.kill (Linux 5.14) ends every process at once; older kernels get the loop.
      await writeFile(join(dir, 'cgroup.kill'), '1').catch(() => killProcs([dir]));
    },
    remove: () => removeDirs([dir], async () => writeFile(join(dir, 'cgroup.kill'), '1').catch(() => killProcs([dir]))),
  };
}

async function killProcs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** rmdir succeeds only once the group is empty: kill what is left, wait for it to go. */
async function removeDirs(dirs: readonly string[], kill: () => Promise<void>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let left = 0;
    for (const dir of dirs) {
      try {
        await rmdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left++;
      }
    }
    if (left === 0) return;
    await kill();
    await sleep(20);
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Ends every process left in a build's cgroup and removes it, if there is one: what a runner
 * does after the supervisor itself died (a hard kill), when nobody else will.
 */
export async function endBuildCgroup(name: string): Promise<void> {
  const candidates = [join(ROOT, PARENT, name), ...['memory', 'pids', 'cpu', 'cpuacct'].map((c) => join(ROOT, c, PARENT, name))];
  const dirs: string[] = [];
  for (const dir of candidates) if (await exists(dir)) dirs.push(dir);
  if (dirs.length > 0) await removeDirs(dirs, () => killProcs(dirs));
}
