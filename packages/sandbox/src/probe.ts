import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createBuildCgroup } from './cgroup.ts';
import { program } from './programs.ts';

/** What this host can give the user's commands of a build; decided once, at start-up. */
export interface SandboxProbe {
  /** `bubblewrap` when namespaces work here; `none` otherwise (single-user mode). */
  isolation: 'bubblewrap' | 'none';
  /** Each build gets a uid of its own (the platform runs as root). */
  uidPerBuild: boolean;
  /** slirp4netns and nft are here: builds reach the internet and nothing else. Otherwise no network. */
  egress: boolean;
  /** Memory, process and CPU limits (a writable cgroup). */
  limits: boolean;
  /** What is missing, in words, with what to install. */
  problems: string[];
}

/** The smallest sandbox: does bubblewrap make its namespaces here (as `uid`, when given)? */
export function bubblewrapWorks(options: { uid?: number } = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(
      program('bwrap'),
      [
        '--unshare-user',
        '--unshare-pid',
        '--unshare-net',
        '--unshare-ipc',
        '--unshare-uts',
        '--die-with-parent',
        '--ro-bind',
        '/',
        '/',
        '--proc',
        '/proc',
        '--',
        'true',
      ],
      { stdio: 'ignore', shell: false, ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}) },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/** Looks at this host: bubblewrap, slirp4netns, nft, cgroups, root. Takes about 20 ms. */
export async function probeSandbox(options: { path: string; uid?: number }): Promise<SandboxProbe> {
  const problems: string[] = [];
  const root = process.getuid?.() === 0;
  if (process.platform !== 'linux') {
    return {
      isolation: 'none',
      uidPerBuild: false,
      egress: false,
      limits: false,
      problems: [`builds cannot be sandboxed on ${process.platform}: bubblewrap needs Linux`],
    };
  }
  const has = (program: string) => onPath(program, options.path);
  if (!(await has('bwrap'))) {
    return {
      isolation: 'none',
      uidPerBuild: false,
      egress: false,
      limits: false,
      problems: ['bubblewrap is not installed (apt-get install -y bubblewrap slirp4netns nftables)'],
    };
  }
  if (!(await bubblewrapWorks(root && options.uid !== undefined ? { uid: options.uid } : {}))) {
    return {
      isolation: 'none',
      uidPerBuild: false,
      egress: false,
      limits: false,
      problems: [
        'bubblewrap cannot create user namespaces here (kernel.unprivileged_userns_clone=0, an AppArmor or seccomp policy, or a container without them)',
      ],
    };
  }
  const [slirp, nft, nsenter] = await Promise.all([has('slirp4netns'), has('nft'), has('nsenter')]);
  const egress = slirp && nft && nsenter;
  if (!egress)
    problems.push(
      `builds get no network: ${[!slirp && 'slirp4netns', !nft && 'nft (nftables)', !nsenter && 'nsenter (util-linux)'].filter(Boolean).join(', ')} missing`,
    );
  const cgroup = await createBuildCgroup(`probe-${process.pid}`, { pids: 64 });
  await cgroup?.remove();
  if (!cgroup) problems.push('memory, process and CPU limits are off: no writable cgroup (run as root, or delegate a cgroup)');
  if (!root) {
    problems.push("builds share the platform's uid inside their namespaces: run as root for a uid per build");
    if (egress)
      problems.push("builds can reach private networks (no firewall without root; this machine's loopback stays closed): run as root for the firewall");
  }
  return { isolation: 'bubblewrap', uidPerBuild: root, egress, limits: cgroup !== null, problems };
}

async function onPath(program: string, path: string): Promise<boolean> {
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const ok = await access(join(dir, program), constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return true;
  }
  return false;
}
