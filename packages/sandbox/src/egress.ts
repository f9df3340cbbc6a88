import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { program } from './programs.ts';

/**
 * Addresses a build may never reach, whatever a name resolves to: this machine (its loopback
 * and its own addresses), private and link-local networks (cloud metadata at 169.254.169.254,
 * the platform's database, Kafka, S3 endpoints), carrier-grade NAT, multicast and reserved
 * ranges. Checked by IP inside the build's network namespace, so DNS rebinding cannot help.
 */
export const BLOCKED_IPV4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
];

/** slirp4netns' fixed addresses inside the namespace: the gateway is the host, 10.0.2.3 its DNS forwarder. */
const SLIRP_DNS = '10.0.2.3';

export interface EgressOptions {
  /** The host pid of a process inside the network namespace (bubblewrap's `child-pid`). */
  pid: number;
  /**
   * Absent: this process is root of the machine and enters the namespace by path. Set (a
   * supervisor that is not root): slirp4netns runs as the namespace's owner, inside its user
   * namespace, and no firewall can be installed (the loopback stays cut off).
   */
  owner?: { uid: number; gid: number };
  /** More addresses to refuse: the host's, as seen by a runner outside the build's container. */
  deny?: readonly string[];
  /** CIDRs the operator lets builds reach although they are private (a registry mirror). */
  allow?: readonly string[];
}

export interface Egress {
  close(): Promise<void>;
}

/** The nft ruleset the build's namespace gets: DNS to the forwarder, the blocked ranges refused, no IPv6. */
export function egressRules(options: { allow?: readonly string[]; hostAddresses: readonly string[] }): string {
  const blocked = [...BLOCKED_IPV4, ...options.hostAddresses.map((a) => `${a}/32`)];
  assertCidrs([...(options.allow ?? []), ...options.hostAddresses]);
  return [
    'table ip platform_sandbox {',
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    '    oif "lo" accept',
    `    ip daddr ${SLIRP_DNS} udp dport 53 accept`,
    `    ip daddr ${SLIRP_DNS} tcp dport 53 accept`,
    ...(options.allow ?? []).map((cidr) => `    ip daddr ${cidr} accept`),
    `    ip daddr { ${blocked.join(', ')} } reject`,
    '  }',
    '}',
    'table ip6 platform_sandbox {',
    '  chain out {',
    '    type filter hook output priority 0; policy drop;',
    '    oif "lo" accept',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The rules are text: whatever goes into them must be an IPv4 address or CIDR, nothing else. */
function assertCidrs(values: readonly string[]): void {
  for (const cidr of values) {
    if (!/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(cidr)) throw new Error(`not an IPv4 address or CIDR: ${JSON.stringify(cidr)}`);
  }
}

/** This machine's own IPv4 addresses: a build must not reach a service bound to 0.0.0.0 through them. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a): a is NonNullable<typeof a> => !!a && a.family === 'IPv4')
    .map((a) => a.address);
}

/**
 * Connects a sandbox's network namespace to the internet through slirp4netns (a user-mode
 * TCP/IP stack: the namespace gets a tap device, slirp4netns makes the connections from the
 * host), with the host's loopback disabled, then installs the nft rules inside the namespace
 * before any user code runs. Nobody in the sandbox holds a capability over its namespace, so
 * the rules stay.
 */
export async function connectEgress(options: EgressOptions): Promise<Egress> {
  const { pid } = options;
  const as = options.owner ? { uid: options.owner.uid, gid: options.owner.gid } : {};
  // As root (of the machine) slirp4netns opens the namespace by path; as its owner it joins
  // the namespace's user namespace first (which needs bubblewrap to have made only one).
  const target = options.owner ? [`--userns-path=/proc/${pid}/ns/user`, String(pid)] : ['--netns-type=path', `/proc/${pid}/ns/net`];
  const slirp = spawn(
    program('slirp4netns'),
    // --enable-sandbox (its own mount namespace, capabilities dropped) needs root: it fails with setegid(0) otherwise.
    [
      '--configure',
      '--mtu=65520',
      '--disable-host-loopback',
      ...(options.owner ? [] : ['--enable-sandbox']),
      '--enable-seccomp',
      '--ready-fd=3',
      '--exit-fd=4',
      ...target,
      'tap0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], shell: false, ...as },
  );
  let stderr = '';
  slirp.stderr?.setEncoding('utf8');
  slirp.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  const exitFd = slirp.stdio[4] as Writable;
  exitFd.on('error', () => {});
  const exited = new Promise<void>((resolve) => {
    slirp.once('exit', () => resolve());
    slirp.once('error', () => resolve());
  });
  const close = async () => {
    const gone = exited;
    // Nothing to flush: the namespace it served is gone.
    slirp.kill('SIGKILL');
    exitFd.destroy();
    await gone;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('slirp4netns did not configure the network within 10 s')), 10_000);
      (slirp.stdio[3] as Readable).once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      slirp.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`slirp4netns could not start: ${err.message}`));
      });
      slirp.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`slirp4netns exited with code ${code}: ${stderr.trim().split('\n').pop() ?? ''}`));
      });
    });
    const rules = egressRules({
      ...(options.allow ? { allow: options.allow } : {}),
      hostAddresses: [...new Set([...hostAddresses(), ...(options.deny ?? [])])],
    });
    // An owner other than root cannot keep the capability across exec into nft (this
    // util-linux's nsenter has no --keep-caps): such a build keeps only the loopback cut-off.
    if (!options.owner)
      await runWithInput(program('nsenter'), ['--target', String(pid), '--net', '--', program('nft'), '-f', '-'], rules, {}, "installing the build's firewall");
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}

function runWithInput(file: string, args: string[], input: string, as: { uid?: number; gid?: number }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'], shell: false, timeout: 10_000, killSignal: 'SIGKILL', ...as });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (err) => reject(new Error(`${file} could not start: ${err.message}`)));
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${what} failed: ${stderr.trim() || (signal ? `killed by ${signal} (timed out after 10 s)` : `exit code ${code}`)}`)),
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/**
 * For a sandbox that shares its network namespace (inside a build container, whose network is
 * its own): rules on this namespace's output for sockets of `uid`, the build's uid. DNS goes
 * to the container's own resolvers; the blocked ranges and `deny` are refused; no IPv6.
 * Needs CAP_NET_ADMIN over this namespace (the container runner grants it inside the
 * container's user namespace, where it reaches nothing of the host's).
 */
export async function installUidFirewall(
  uid: number,
  options: { deny?: readonly string[]; allow?: readonly string[]; resolvers: readonly string[] },
): Promise<void> {
  const blocked = [...BLOCKED_IPV4, ...(options.deny ?? []).map((a) => `${a}/32`), ...hostAddresses().map((a) => `${a}/32`)];
  assertCidrs([...(options.allow ?? []), ...(options.deny ?? []), ...options.resolvers]);
  const rules = [
    `table inet platform_sandbox_${uid}`,
    `delete table inet platform_sandbox_${uid}`,
    `table inet platform_sandbox_${uid} {`,
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    ...options.resolvers.map((r) => `    meta skuid ${uid} ip daddr ${r} meta l4proto { tcp, udp } th dport 53 accept`),
    ...(options.allow ?? []).map((cidr) => `    meta skuid ${uid} ip daddr ${cidr} accept`),
    `    meta skuid ${uid} ip daddr { ${[...new Set(blocked)].join(', ')} } reject`,
    `    meta skuid ${uid} meta nfproto ipv6 reject`,
    '  }',
    '}',
    '',
  ].join('\n');
  await runWithInput(program('nft'), ['-f', '-'], rules, {}, "installing the build's firewall");
}
