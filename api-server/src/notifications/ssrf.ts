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
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  // IPv4 inside IPv6: compatible (::a.b.c.d, with :: and ::1), mapped (::ffff:a.b.c.d, which the
  // URL parser spells ::ffff:7f00:1), NAT64, 6to4 and Teredo all reach an IPv4 address; a
  // webhook has no need of them, so none is taken as public.
  ['::', 96],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
  ['2001::', 32],
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated, still routed on some networks)
  ['ff00::', 8],
] as const) {
  privateRanges6.addSubnet(net, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) return privateRanges6.check(address, 'ipv6');
  return privateRanges.check(address, 'ipv4');
}

/**
 * Refuses URLs that resolve to loopback, private, link-local (cloud metadata) or otherwise
 * internal addresses: a notification URL is user input and must not reach the platform's
 * own network. Throws with the reason.
 */
export async function assertPublicUrl(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  if (addresses.length === 0 || addresses.some(isPrivateAddress)) {
    throw new Error(`${host} resolves to a private or internal address`);
  }
}

/**
 * A `lookup` for http(s).request that refuses private addresses at connect time, so a name
 * that resolved to a public address when checked cannot switch to an internal one for the
 * actual connection (DNS rebinding).
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as { address: string; family: number }[];
    const blocked = list.find((a) => isPrivateAddress(a.address));
    if (blocked || list.length === 0) {
      return callback(Object.assign(new Error(`${hostname} resolves to a private or internal address`), { code: 'EPRIVATE' }), '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};
