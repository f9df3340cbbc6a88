import { BlockList, isIP } from 'node:net';

/** The ranges `TRUST_PROXY` may name by word, as express and proxy-addr spell them. */
const NAMED: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Whether `entry` is something `TRUST_PROXY` accepts: a named range, an address, or a CIDR. */
export function isTrustProxyEntry(entry: string): boolean {
  if (entry in NAMED) return true;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/** `::ffff:10.0.0.1` (a v4 client on a dual-stack socket) is the v4 address. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * Express's `trust proxy` as a function: hop `i` (0 is the peer of the socket, 1 the last
 * X-Forwarded-For entry, and so on) is trusted only while `i < hops` and its address is one of
 * the platform's own proxies. So `req.ip` is the address the outermost trusted proxy saw, and
 * whatever a client writes into X-Forwarded-For itself is never believed; with no addresses,
 * nobody is trusted and `req.ip` is the socket's peer.
 */
export function trustProxy(addresses: readonly string[], hops: number): (address: string, hop: number) => boolean {
  if (addresses.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of addresses.flatMap((e) => NAMED[e] ?? [e])) {
    if (!isTrustProxyEntry(entry)) throw new Error(`TRUST_PROXY: ${JSON.stringify(entry)} is not an address, a CIDR or a named range`);
    const [address = '', prefix] = entry.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address, hop) => {
    if (hop >= hops) return false;
    const a = plain(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
}
