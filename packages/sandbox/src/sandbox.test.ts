import { describe, expect, it } from 'vitest';
import { sandboxSettingsSchema } from '@platform/contracts';
import { bubblewrapArgs } from './bubblewrap.ts';
import { BLOCKED_IPV4, egressRules } from './egress.ts';

const launch = (overrides: Partial<Parameters<typeof bubblewrapArgs>[0]> = {}) => ({
  settings: sandboxSettingsSchema.parse({ isolation: 'bubblewrap', uid: 100001 }),
  workDir: '/tmp/build-x/work',
  tmpDir: '/tmp/build-x/work/tmp',
  etcDir: '/tmp/build-x/etc',
  readOnlyPaths: [],
  cgroup: null,
  network: 'slirp' as const,
  ...overrides,
});

describe('bubblewrap arguments', () => {
  it('unshares every namespace, forbids nested user namespaces, binds only the work folder writable and the root read-only', () => {
    const args = bubblewrapArgs(launch(), ['npm', 'run', 'build'], '/tmp/build-x/work/repo');
    for (const flag of [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-net',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
    ])
      expect(args).toContain(flag);
    const writable = args.flatMap((a, i) => (a === '--bind' ? [args[i + 2]] : []));
    expect(writable).toEqual(['/tmp', '/tmp/build-x/work']);
    expect(args.filter((a) => a === '--dev-bind').length).toBeGreaterThan(0);
    expect(args).not.toContain('--dev');
    // The command comes last, after `--`: nothing in it is read as an option.
    expect(args.slice(args.indexOf('--'))).toEqual(['--', 'npm', 'run', 'build']);
    // The root is made read-only after the mounts, before the command.
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.lastIndexOf('--bind'));
    expect(args.join(' ')).not.toMatch(/DATA_DIR|\.data|secrets/);
  });

  it("shares the container's network namespace only where the uid firewall guards it", () => {
    expect(bubblewrapArgs(launch({ network: 'shared' }), ['true'], '/tmp/build-x/work')).not.toContain('--unshare-net');
    const none = launch({ network: 'shared', settings: sandboxSettingsSchema.parse({ isolation: 'bubblewrap', network: 'none' }) });
    expect(bubblewrapArgs(none, ['true'], '/tmp/build-x/work')).toContain('--unshare-net');
  });
});

describe('egress firewall', () => {
  it('lets DNS to the forwarder through and refuses this machine, private, link-local ranges and IPv6', () => {
    const rules = egressRules({ hostAddresses: ['192.0.2.2'] });
    expect(rules).toContain('ip daddr 10.0.2.3 udp dport 53 accept');
    for (const cidr of [...BLOCKED_IPV4, '192.0.2.2/32']) expect(rules).toContain(cidr);
    expect(BLOCKED_IPV4).toEqual(expect.arrayContaining(['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10']));
    expect(rules).toMatch(/table ip6 platform_sandbox \{\s+chain out \{\s+type filter hook output priority 0; policy drop;/);
  });

  it("lets an operator's private registry through, and refuses anything that is not an address", () => {
    expect(egressRules({ hostAddresses: [], allow: ['10.1.2.0/24'] })).toContain('ip daddr 10.1.2.0/24 accept');
    expect(() => egressRules({ hostAddresses: [], allow: ['10.0.0.0/8; flush ruleset'] })).toThrow('not an IPv4 address or CIDR');
  });
});
