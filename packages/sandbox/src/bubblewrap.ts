import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { access, constants, readFile } from 'node:fs/promises';
import { constants as os } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { Readable as ReadableStream } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import type { Command, ParsedSandboxSettings } from '@platform/contracts';
import type { BuildCgroup } from './cgroup.ts';
import { connectEgress, type Egress } from './egress.ts';
import { program } from './programs.ts';
import type { SandboxedProcess, SandboxExit, SpawnOptions } from './sandbox.ts';

export interface BubblewrapLaunch {
  settings: ParsedSandboxSettings;
  /** The build's work folder: bound read-write at the same path, the only writable place. */
  workDir: string;
  /** Bound at /tmp: on the same capped disk as the work folder. */
  tmpDir: string;
  /** Files for the sandbox's /etc: passwd, group, hosts, resolv.conf (written by the supervisor). */
  etcDir: string;
  /** Read-only extras: the toolchain where it lives outside /usr (node's own prefix). */
  readOnlyPaths: readonly string[];
  cgroup: BuildCgroup | null;
  /** Private CIDRs the operator lets builds reach. */
  egressAllow?: readonly string[];
  /** Called when a limit is hit, to say why in the log. */
  diskFull?: () => Promise<boolean>;
  /**
   * `slirp`: a network namespace of its own, wired to slirp4netns. `shared`: the supervisor's
   * network namespace (a build container's own), filtered by uid (installUidFirewall).
   */
  network: 'slirp' | 'shared';
  /** slirp4netns runs as this owner, joining the sandbox's single user namespace (a supervisor that is not root). */
  slirpOwner?: { uid: number; gid: number };
}

/** Every bubblewrap process this supervisor started and that still runs, so a shutdown can end them even mid-setup. */
const live = new Map<import('node:child_process').ChildProcess, { nsInit?: number }>();

/**
 * SIGKILLs every sandbox this process started (the runner's SIGTERM): bubblewrap, and the init
 * of its pid namespace (whose end ends every process in it), also while it is being set up.
 */
export function killEverySandbox(): void {
  for (const [child, { nsInit }] of live) {
    for (const target of [child.pid === undefined ? undefined : -child.pid, nsInit]) {
      try {
        if (target !== undefined) process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Host /etc entries the toolchain reads; nothing of the platform's, no credentials. */
const HOST_ETC = ['ssl', 'ca-certificates', 'ca-certificates.conf', 'alternatives', 'nsswitch.conf', 'localtime', 'mime.types', 'protocols', 'services'];

/**
 * bubblewrap's argument list for one command. Every namespace is new (user, pid, mount, ipc,
 * uts, cgroup, network unless the container's is shared); no capability survives into the
 * command and it may not make user namespaces of its own. The
 * filesystem is a fresh tmpfs root holding /usr and a few /etc files read-only, a /proc that
 * shows only the sandbox's own processes, a minimal /dev, and the work folder.
 */
export function bubblewrapArgs(launch: BubblewrapLaunch, command: Command, cwd: string): string[] {
  const ownNetwork = launch.network === 'slirp' || launch.settings.network === 'none';
  const args = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(ownNetwork ? ['--unshare-net'] : []),
    // No user namespace inside: one would give the build capabilities over namespaces of its
    // own, a large part of the kernel to attack. Not possible where slirp4netns must join the
    // namespace as its owner (bubblewrap would nest a second user namespace it cannot enter).
    ...(launch.slirpOwner ? [] : ['--disable-userns']),
    '--die-with-parent',
    // A new session: the command cannot push input into a terminal of the platform's (TIOCSTI).
    '--new-session',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  // Merged-/usr systems link /bin, /lib... into /usr; older ones have real folders.
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(top)) continue;
    const stat = lstatSync(top);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
    else if (stat.isDirectory()) args.push('--ro-bind', top, top);
  }
  args.push('--dir', '/etc');
  for (const name of HOST_ETC) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  for (const name of ['passwd', 'group', 'hosts', 'resolv.conf']) args.push('--ro-bind', `${launch.etcDir}/${name}`, `/etc/${name}`);
  // /dev by hand rather than `--dev`: mounting a devpts would make bubblewrap map root first and
  // nest a second user namespace, whose network namespace an owner's slirp4netns could not join.
  args.push('--proc', '/proc', '--tmpfs', '/dev');
  for (const device of ['null', 'zero', 'full', 'random', 'urandom', 'tty']) args.push('--dev-bind', `/dev/${device}`, `/dev/${device}`);
  args.push('--tmpfs', '/dev/shm', '--symlink', '/proc/self/fd', '/dev/fd');
  for (const [fd, name] of ['stdin', 'stdout', 'stderr'].entries()) args.push('--symlink', `/proc/self/fd/${fd}`, `/dev/${name}`);
  args.push('--bind', launch.tmpDir, '/tmp');
  for (const path of launch.readOnlyPaths) args.push('--ro-bind', path, path);
  // The work folder last: it may lie under /tmp on the host, and must not be hidden by the private /tmp.
  args.push('--bind', launch.workDir, launch.workDir);
  // The root (a tmpfs holding the mount points) read-only: only the work folder and /tmp take writes.
  args.push('--remount-ro', '/', '--chdir', cwd, '--info-fd', '3', '--block-fd', '4', '--', ...command);
  return args;
}

/**
 * Starts one command in a bubblewrap sandbox. bubblewrap stops before running the command
 * (`--block-fd`) until the supervisor has put its processes in the build's cgroup and wired
 * its network namespace to slirp4netns behind the firewall, so no user code ever runs
 * unlimited or with an unfiltered network.
 */
export async function spawnInBubblewrap(launch: BubblewrapLaunch, command: Command, options: SpawnOptions): Promise<SandboxedProcess> {
  const { settings } = launch;
  const asRoot = process.getuid?.() === 0;
  // Found before bubblewrap runs, so a typo reads as ENOENT, not as a sandbox failure.
  if (!(await findProgram(command[0]!, options.env.PATH ?? '', options.cwd))) {
    return {
      stdout: ReadableStream.from([]),
      stderr: ReadableStream.from([]),
      exited: Promise.resolve({ exitCode: null, signal: null, spawnError: `spawn ${command[0]} ENOENT (not found on PATH)` }),
      kill: async () => {},
      limitReason: () => undefined,
    };
  }
  // Counters before this command: a limit hit by an earlier step is not this one's.
  const baseline = (await launch.cgroup?.usage()) ?? { oomKills: 0, pidsRefused: 0, cpuSeconds: 0 };
  const child = spawn(program('bwrap'), bubblewrapArgs(launch, command, options.cwd), {
    cwd: '/',
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    ...(asRoot && settings.uid !== undefined ? { uid: settings.uid, gid: settings.gid ?? settings.uid } : {}),
    detached: true,
    shell: false,
  });
  const sandboxed = new BubblewrapProcess(launch, child, baseline);
  if (child.pid === undefined) return sandboxed.handle(await sandboxed.exited);
  const block = child.stdio[4] as Writable;
  block.on('error', () => {});
  try {
    await sandboxed.setUp();
  } catch (err) {
    return sandboxed.failStart((err as Error).message);
  }
  block.end('1');
  sandboxed.watchLimits();
  return sandboxed.handle();
}

type CgroupUsage = Awaited<ReturnType<BuildCgroup['usage']>>;

/** One bubblewrap process, from its spawn until it has exited: its set-up, its limits, its end. */
class BubblewrapProcess {
  /** Why a limit ended or starved the command, once one did. */
  private limit: string | undefined;
  private egress: Egress | undefined;
  private watcher: NodeJS.Timeout | undefined;
  private ended = false;
  /** Its entry in `live`: the pid of the namespace's init once bubblewrap names it. */
  private readonly entry: { nsInit?: number } = {};
  /** bubblewrap's own exit. */
  private readonly exitedRaw: Promise<SandboxExit>;
  /** The exit once the sandbox is cleaned up and the limit that ended it, if any, is known. */
  readonly exited: Promise<SandboxExit>;

  constructor(
    private readonly launch: BubblewrapLaunch,
    private readonly child: ChildProcess,
    private readonly baseline: CgroupUsage,
  ) {
    live.set(child, this.entry);
    child.once('exit', () => live.delete(child));
    child.once('error', () => live.delete(child));
    this.exitedRaw = new Promise<SandboxExit>((done) => {
      child.once('error', (err) => done({ exitCode: null, signal: null, spawnError: `the sandbox could not start: ${err.message}` }));
      child.once('exit', (exitCode, signal) => done(fromBubblewrapExit(exitCode, signal)));
    });
    this.exited = this.exitedRaw.then((result) => this.afterExit(result));
  }

  private async afterExit(result: SandboxExit): Promise<SandboxExit> {
    const { launch } = this;
    const { settings } = launch;
    this.ended = true;
    if (this.watcher) clearInterval(this.watcher);
    await launch.cgroup?.killAll();
    await this.egress?.close();
    if (!this.limit && result.exitCode !== 0 && (await launch.diskFull?.())) this.limit = `filled its disk (${formatBytes(settings.diskBytes ?? 0)})`;
    if (!this.limit && launch.cgroup) {
      const usage = await launch.cgroup.usage();
      if (usage.oomKills > this.baseline.oomKills) this.limit = `ran out of memory (limit ${formatBytes(settings.memoryBytes ?? 0)})`;
    }
    return result;
  }

  /** While bubblewrap blocks: its processes into the build's cgroup, its network namespace wired to the egress. */
  async setUp(): Promise<void> {
    const { launch, child } = this;
    const { settings } = launch;
    const childPid = await readChildPid(child.stdio[3] as Readable, this.exitedRaw);
    this.entry.nsInit = childPid;
    // bubblewrap sets up the namespace's loopback before it blocks: wiring slirp4netns in the
    // meantime races it over netlink ("Failed RTM_NEWADDR", or a hang). Wait for the block.
    await waitUntilBlocked(childPid, 4, this.exitedRaw);
    if (launch.cgroup) {
      await launch.cgroup.add(child.pid!);
      await launch.cgroup.add(childPid);
    }
    if (settings.network === 'egress' && launch.network === 'slirp') {
      this.egress = await connectEgress({
        pid: childPid,
        ...(launch.slirpOwner ? { owner: launch.slirpOwner } : {}),
        ...(launch.egressAllow ? { allow: launch.egressAllow } : {}),
        ...(settings.egressDeny.length ? { deny: settings.egressDeny } : {}),
      });
    }
  }

  /** Every 200 ms: a process, memory or CPU time limit reached ends the command, with the reason. */
  watchLimits(): void {
    const { cgroup, settings } = this.launch;
    if (!cgroup) return;
    this.watcher = setInterval(() => {
      void cgroup.usage().then((usage) => {
        if (this.ended || this.limit) return;
        if (usage.pidsRefused > this.baseline.pidsRefused) this.limit = `started more processes than its limit of ${settings.pids} allows`;
        else if (usage.oomKills > this.baseline.oomKills) this.limit = `ran out of memory (limit ${formatBytes(settings.memoryBytes ?? 0)})`;
        else if (settings.cpuSeconds !== undefined && usage.cpuSeconds > settings.cpuSeconds)
          this.limit = `used more than its ${settings.cpuSeconds} s of CPU time`;
        if (this.limit) void this.kill();
      });
    }, 200);
    this.watcher.unref();
  }

  async kill(): Promise<void> {
    // The outer bwrap's death takes the namespace's init with it (--die-with-parent), and the
    // kernel ends every process of a pid namespace whose init is gone; the init is killed too,
    // in case it had not armed its death signal yet. The cgroup catches the rest.
    for (const target of [this.child.pid === undefined ? undefined : -this.child.pid, this.entry.nsInit]) {
      try {
        if (target !== undefined) process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.child.kill('SIGKILL');
    await this.launch.cgroup?.killAll();
  }

  /** Ends a sandbox whose set-up failed; its exit says why. */
  async failStart(why: string): Promise<SandboxedProcess> {
    await this.kill();
    const result = await this.exited;
    return this.handle({ ...result, spawnError: `the sandbox could not start: ${why}` });
  }

  handle(override?: SandboxExit): SandboxedProcess {
    return {
      stdout: this.child.stdout!,
      stderr: this.child.stderr!,
      exited: override ? Promise.resolve(override) : this.exited,
      kill: () => this.kill(),
      limitReason: () => this.limit,
    };
  }
}

/**
 * Resolves once `pid` sits in read(2) on `fd` (bubblewrap's --block-fd), as /proc/<pid>/syscall
 * shows it. Where that file cannot be read, gives bubblewrap a moment instead.
 */
async function waitUntilBlocked(pid: number, fd: number, exited: Promise<SandboxExit>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (gone) throw new Error('bubblewrap exited while setting up the sandbox');
    let syscall: string;
    try {
      syscall = await readFile(`/proc/${pid}/syscall`, 'utf8');
    } catch {
      await new Promise((r) => setTimeout(r, 100));
      return;
    }
    const [number, firstArg] = syscall.split(' ');
    if (number === '0' && firstArg === `0x${fd.toString(16)}`) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('bubblewrap did not finish setting up the sandbox within 10 s');
}

/** bubblewrap's init exits 128 + n when the command was killed by signal n: report the signal, as a direct child would. */
function fromBubblewrapExit(exitCode: number | null, signal: NodeJS.Signals | null): SandboxExit {
  if (exitCode !== null && exitCode > 128 && exitCode < 128 + 65) {
    const name = Object.entries(os.signals).find(([, n]) => n === exitCode - 128)?.[0] as NodeJS.Signals | undefined;
    if (name) return { exitCode: null, signal: name };
  }
  return { exitCode, signal };
}

/** The program as execvp inside the sandbox would find it (the sandbox sees the same paths). */
async function findProgram(name: string, path: string, cwd: string): Promise<boolean> {
  const candidates = name.includes('/')
    ? [isAbsolute(name) ? name : resolve(cwd, name)]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

/** bubblewrap writes `{"child-pid": N}` on its info fd once the namespaces exist. */
function readChildPid(info: Readable, exited: Promise<SandboxExit>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let text = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => settle(() => reject(new Error('bubblewrap did not start within 10 s'))), 10_000);
    info.setEncoding('utf8');
    info.on('data', (chunk: string) => {
      text += chunk;
      const match = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (match) settle(() => resolve(Number(match[1])));
    });
    info.once('end', () => settle(() => reject(new Error('bubblewrap closed its info pipe before naming its child'))));
    void exited.then((r) => settle(() => reject(new Error(`bubblewrap exited with code ${r.exitCode}${r.spawnError ? `: ${r.spawnError}` : ''}`))));
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
