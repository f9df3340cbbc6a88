import { lookup as dnsLookup } from 'node:dns';
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { BlockList, isIP } from 'node:net';

const privateRanges = new BlockList();
// A list of its own: BlockList matches an IPv4 address against IPv6 rules such as ::/96.
const privateRanges6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv4');
}
// Only global unicast (2000::/3) is ever public. Everything else is refused whatever its
// spelling: unspecified and loopback (::, ::1), IPv4-compatible (::a.b.c.d), IPv4-mapped
// (::ffff:a.b.c.d, which the URL parser spells ::ffff:7f00:1), IPv4-translated
// (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), discard (100::/64), unique local
// (fc00::/7), link-local (fe80::/10), site-local (fec0::/10), multicast (ff00::/8).
const globalUnicast6 = new BlockList();
globalUnicast6.addSubnet('2000::', 3, 'ipv6');
for (const [net, prefix] of [
  // Inside 2000::/3 yet reaching an IPv4 address (6to4 embeds one, Teredo tunnels to one):
  // a webhook has no need of them, so none is taken as public.
  ['2002::', 16],
  ['2001::', 32],
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID
  ['2001:20::', 28], // ORCHIDv2
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
] as const) {
  privateRanges6.addSubnet(net, prefix, 'ipv6');
}

/** True for anything but a public unicast address (an unparsable one included). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) return !globalUnicast6.check(address, 'ipv6') || privateRanges6.check(address, 'ipv6');
  return privateRanges.check(address, 'ipv4');
}

/** Every address a name resolves to, as `dns.lookup` gives them. */
export type Resolve = (hostname: string) => Promise<string[]>;
const systemResolve: Resolve = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Refuses URLs that resolve to loopback, private, link-local (cloud metadata) or otherwise
 * internal addresses: a notification URL is user input and must not reach the platform's
 * own network. Throws with the reason.
 */
export async function assertPublicUrl(url: string, resolve: Resolve = systemResolve): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new Error(`${host} resolves to a private or internal address`);
  }
}

/**
 * A `lookup` for http(s).request that refuses private addresses at connect time, so a name
 * that resolved to a public address when checked cannot switch to an internal one for the
 * actual connection (DNS rebinding).
 */
export const publicOnlyLookup: LookupFunction = publicOnlyLookupVia((hostname, options, callback) =>
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => callback(err, addresses as unknown as { address: string; family: number }[])),
);

/** `publicOnlyLookup` over another resolver (tests stand in a name that rebinds). */
export function publicOnlyLookupVia(
  resolveAll: (
    hostname: string,
    options: object,
    callback: (err: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[]) => void,
  ) => void,
): LookupFunction {
  return (hostname, options, callback) =>
    resolveAll(hostname, options, (err, list) => {
      if (err) return callback(err, '', 0);
      const blocked = list.find((a) => isPrivateAddress(a.address));
      if (blocked || list.length === 0) {
        return callback(Object.assign(new Error(`${hostname} resolves to a private or internal address`), { code: 'EPRIVATE' }), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
}
