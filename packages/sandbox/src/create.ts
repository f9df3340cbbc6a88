import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sandboxSettingsSchema, type ParsedSandboxSettings, type SandboxSettings } from '@platform/contracts';
import { formatBytes, spawnInBubblewrap, type BubblewrapLaunch } from './bubblewrap.ts';
import { createBuildCgroup, type BuildCgroup } from './cgroup.ts';
import { watchDiskUsage } from './disk-watch.ts';
import { mountScratchDisk, type ScratchDisk } from './scratch-disk.ts';
import type { Sandbox } from './sandbox.ts';
import { killUid, spawnUnsandboxed } from './unsandboxed.ts';
import { installUidFirewall } from './egress.ts';
import { bubblewrapWorks } from './probe.ts';
import { runProgram } from './programs.ts';

/** The uid the user's commands get where the supervisor may switch users and nobody chose one. */
export const DEFAULT_SANDBOX_UID = 1001;

export class SandboxUnavailableError extends Error {}

export interface CreateSandboxOptions {
  settings: SandboxSettings;
  /**
   * A folder of the supervisor's own for this build (made by the caller): the work folder, the
   * sandbox's /tmp and /etc files and its disk image go in it. Must not be writable by others.
   */
  root: string;
  /** Names the build's cgroup (the deployment id). */
  name: string;
  /** Private CIDRs the operator lets builds reach (a registry mirror). */
  egressAllow?: readonly string[];
}

/**
 * Makes the sandbox the settings ask for, or throws SandboxUnavailableError: a build is never
 * run with less isolation than its runner asked for. `auto` (containers, ECS) takes bubblewrap
 * where the kernel allows it, else a uid of its own; never the supervisor's uid.
 */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  const identity = await resolveIsolation(options.settings);
  const folders = await prepareWorkFolder(options.root, identity);
  const { uid, gid } = identity;
  const handOver = async (dir: string) => {
    if (uid === undefined) return;
    await runProgram('chown', ['-R', '--no-dereference', `${uid}:${gid}`, '--', dir], 120_000);
  };
  const sandbox =
    identity.settings.isolation === 'bubblewrap'
      ? await bubblewrapSandbox(options, identity, folders, handOver)
      : unsandboxed(identity, folders.workDir, handOver);
  const { diskBytes } = identity.settings;
  if (diskBytes === undefined || folders.disk) return sandbox;
  // No disk image here: the work folder's usage is measured instead.
  return {
    ...sandbox,
    description: identity.settings.isolation === 'bubblewrap' ? sandbox.description : `${sandbox.description}; disk ${formatBytes(diskBytes)}, measured`,
    spawn: async (command, spawnOptions) => watchDiskUsage(await sandbox.spawn(command, spawnOptions), folders.workDir, diskBytes),
  };
}

/** The `uid` and `none` sandboxes: the commands run as another uid, or as the supervisor's own. */
function unsandboxed({ settings, uid, gid }: SandboxIdentity, workDir: string, handOver: Sandbox['handOver']): Sandbox {
  const description =
    settings.isolation === 'uid'
      ? `Sandbox: the build's commands run as uid ${uid}, apart from the build-server (no user namespaces here: the container is the boundary)`
      : "Sandbox: none. The build runs with the platform's own user (single-user mode: install bubblewrap and slirp4netns to sandbox builds)";
  return {
    settings,
    description,
    workDir,
    handOver,
    spawn: (command, spawnOptions) => spawnUnsandboxed(command, { ...spawnOptions, ...(uid !== undefined ? { uid, gid: gid! } : {}) }),
    async close() {
      if (uid !== undefined) await killUid(uid);
    },
  };
}

async function bubblewrapSandbox(
  options: CreateSandboxOptions,
  identity: SandboxIdentity,
  folders: WorkFolder,
  handOver: Sandbox['handOver'],
): Promise<Sandbox> {
  const { settings } = identity;
  const { workDir, disk } = folders;
  const cgroup = hasLimits(settings)
    ? await createBuildCgroup(`build-${options.name}`, {
        ...(settings.memoryBytes !== undefined ? { memoryBytes: settings.memoryBytes } : {}),
        ...(settings.pids !== undefined ? { pids: settings.pids } : {}),
        ...(settings.cpus !== undefined ? { cpus: settings.cpus } : {}),
      })
    : null;
  const egress = await prepareNetwork(identity, options.egressAllow);
  const etcDir = await writeEtcFiles(options.root, workDir, identity, egress.resolvConf);
  const launch: BubblewrapLaunch = {
    settings,
    workDir,
    tmpDir: folders.tmpDir,
    etcDir,
    readOnlyPaths: toolchainPaths(),
    cgroup,
    network: egress.network,
    ...(egress.slirpOwner ? { slirpOwner: egress.slirpOwner } : {}),
    ...(options.egressAllow ? { egressAllow: options.egressAllow } : {}),
    ...(disk ? { diskFull: async () => (await disk.free()) < Math.min(16 * 1024 ** 2, disk.bytes / 50) } : {}),
  };
  return {
    settings,
    description: describeBubblewrap(identity, egress, cgroup, disk),
    workDir,
    handOver,
    spawn: (command, spawnOptions) => spawnInBubblewrap(launch, command, spawnOptions),
    async close() {
      await cgroup?.remove();
      await disk?.unmount();
    },
  };
}

/** The isolation a sandbox gets (`auto` decided) and the uid its commands run as (none: the supervisor's). */
interface SandboxIdentity {
  settings: ParsedSandboxSettings;
  /** The supervisor runs as root (of the machine or of a container's user namespace). */
  root: boolean;
  uid: number | undefined;
  gid: number | undefined;
}

async function resolveIsolation(requestedSettings: SandboxSettings): Promise<SandboxIdentity> {
  const requested = sandboxSettingsSchema.parse(requestedSettings);
  const root = process.getuid?.() === 0;
  let isolation = requested.isolation;
  if (isolation === 'auto') {
    if (await bubblewrapWorks({ ...(root ? { uid: requested.uid ?? DEFAULT_SANDBOX_UID } : {}) })) isolation = 'bubblewrap';
    else if (root) isolation = 'uid';
    else
      throw new SandboxUnavailableError(
        'no sandbox can run here: bubblewrap cannot make namespaces and the supervisor is not root, so it cannot switch to a uid of its own',
      );
  }
  const uid = root && isolation !== 'none' ? (requested.uid ?? DEFAULT_SANDBOX_UID) : undefined;
  const gid = uid !== undefined ? (requested.gid ?? uid) : undefined;
  if (isolation === 'uid' && uid === undefined) throw new SandboxUnavailableError('the uid sandbox needs a supervisor that runs as root');
  const settings = { ...requested, isolation, ...(uid !== undefined ? { uid, gid } : {}) };
  return { settings, root, uid, gid };
}

/** The work folder (on its own disk image where one is asked for) and its /tmp, owned by the sandbox's user alone. */
interface WorkFolder {
  workDir: string;
  tmpDir: string;
  disk: ScratchDisk | null;
}

async function prepareWorkFolder(root: string, { settings, uid, gid }: SandboxIdentity): Promise<WorkFolder> {
  // The sandbox's user must pass through the root folder to reach the work folder it owns.
  await chmod(root, 0o711);
  const workDir = join(root, 'work');
  await mkdir(workDir, { recursive: true });
  let disk: ScratchDisk | null = null;
  if (settings.diskBytes !== undefined && settings.isolation === 'bubblewrap')
    disk = await mountScratchDisk(workDir, join(root, 'scratch.img'), settings.diskBytes);
  const tmpDir = join(workDir, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  if (uid !== undefined) {
    await chown(workDir, uid, gid!);
    await chown(tmpDir, uid, gid!);
  }
  await chmod(workDir, 0o700);
  await chmod(tmpDir, 0o700);
  return { workDir, tmpDir, disk };
}

function hasLimits(settings: ParsedSandboxSettings): boolean {
  return settings.memoryBytes !== undefined || settings.pids !== undefined || settings.cpus !== undefined || settings.cpuSeconds !== undefined;
}

interface SandboxNetwork {
  network: BubblewrapLaunch['network'];
  slirpOwner: BubblewrapLaunch['slirpOwner'];
  resolvConf: string;
  /** What the build can reach, for the description. */
  note: string;
}

/**
 * How the build reaches the internet. Root of the machine: a network namespace of its own
 * behind slirp4netns and a firewall inside it. Root of a container (its network is its own):
 * the container's namespace, with a firewall on the build's uid. Not root: slirp4netns as the
 * owner, with the host's loopback cut off but no firewall.
 */
async function prepareNetwork({ settings, root, uid }: SandboxIdentity, egressAllow: readonly string[] | undefined): Promise<SandboxNetwork> {
  const hostRoot = root && (await inInitialUserNamespace());
  const egress: SandboxNetwork = {
    network: 'slirp',
    slirpOwner: undefined,
    resolvConf: 'nameserver 10.0.2.3\n',
    note: 'network: the internet only (no route to this machine or private networks)',
  };
  if (settings.network === 'egress' && root && !hostRoot) {
    egress.network = 'shared';
    egress.resolvConf = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    const resolvers = [...egress.resolvConf.matchAll(/^nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/gm)].map((m) => m[1]!);
    egress.note = "network: the container's, the internet only (no route to the host or private networks)";
    await installUidFirewall(uid!, { deny: settings.egressDeny, resolvers, ...(egressAllow ? { allow: egressAllow } : {}) }).catch((err: Error) => {
      // docker without user namespaces: no CAP_NET_ADMIN to give. The container's network is the boundary then.
      egress.note = `network: the container's, unfiltered (${err.message})`;
    });
  } else if (settings.network === 'egress' && !root) {
    egress.slirpOwner = { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
    egress.note = "network: the internet, and private networks too (no firewall without root); not this machine's loopback";
  }
  return egress;
}

/** The sandbox's /etc: passwd and group naming its user, hosts, and resolv.conf only with a network. */
async function writeEtcFiles(root: string, workDir: string, { settings, uid, gid }: SandboxIdentity, resolvConf: string): Promise<string> {
  const etcDir = join(root, 'etc');
  await mkdir(etcDir, { recursive: true });
  await chmod(etcDir, 0o755);
  const insideUid = uid ?? process.getuid?.() ?? 1000;
  const insideGid = gid ?? process.getgid?.() ?? 1000;
  await writeFile(
    join(etcDir, 'passwd'),
    `root:x:0:0:root:/root:/usr/sbin/nologin\nbuild:x:${insideUid}:${insideGid}:build:${workDir}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    { mode: 0o644 },
  );
  await writeFile(join(etcDir, 'group'), `root:x:0:\nbuild:x:${insideGid}:\nnogroup:x:65534:\n`, { mode: 0o644 });
  await writeFile(join(etcDir, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n', { mode: 0o644 });
  await writeFile(join(etcDir, 'resolv.conf'), settings.network === 'egress' ? resolvConf : '', { mode: 0o644 });
  return etcDir;
}

/** The toolchain where it lives outside /usr (a Node installed under /opt or a home folder). */
function toolchainPaths(): string[] {
  const nodePrefix = dirname(dirname(process.execPath));
  return nodePrefix.startsWith('/usr') || nodePrefix === '/' ? [] : [nodePrefix];
}

function describeBubblewrap({ settings, uid }: SandboxIdentity, egress: SandboxNetwork, cgroup: BuildCgroup | null, disk: ScratchDisk | null): string {
  const parts = [
    `bubblewrap${uid !== undefined ? ` as uid ${uid}` : ''}, its own pid, mount, ipc, uts${egress.network === 'shared' && settings.network === 'egress' ? '' : ' and network'} namespaces`,
    settings.network === 'egress' ? egress.note : 'network: none',
    settings.memoryBytes !== undefined && cgroup ? `memory ${formatBytes(settings.memoryBytes)}` : null,
    settings.pids !== undefined && cgroup ? `${settings.pids} processes` : null,
    settings.cpus !== undefined && cgroup ? `${settings.cpus} CPU` : null,
    disk
      ? `disk ${formatBytes(disk.bytes)}`
      : settings.diskBytes !== undefined
        ? `disk ${formatBytes(settings.diskBytes)}, measured (no disk image here: needs root and a loop device)`
        : null,
    hasLimits(settings) && !cgroup ? 'memory, process and CPU limits unavailable here (no writable cgroup)' : null,
  ].filter(Boolean);
  return `Sandbox: ${parts.join('; ')}`;
}

/** Root of the machine, as opposed to root of a container's user namespace. */
async function inInitialUserNamespace(): Promise<boolean> {
  const map = await readFile('/proc/self/uid_map', 'utf8').catch(() => '');
  return /^\s*0\s+0\s+4294967295\s*$/.test(map);
}
