import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { isTrustProxyEntry, trustProxy } from './trust-proxy.ts';

/** What `req.ip` is for a request from loopback carrying `forwardedFor`, under the given trust. */
async function ipSeen(addresses: string[], hops: number, forwardedFor?: string): Promise<string> {
  const app = express();
  app.set('trust proxy', trustProxy(addresses, hops));
  app.get('/', (req, res) => {
    res.send(req.ip);
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
    });
    return await res.text();
  } finally {
    server.close();
  }
}

describe('trustProxy', () => {
  it('ignores X-Forwarded-For from a peer that is not the platform proxy', async () => {
    expect(await ipSeen([], 1, '198.51.100.7')).toBe('127.0.0.1');
    expect(await ipSeen(['10.0.0.0/8'], 1, '198.51.100.7')).toBe('127.0.0.1');
  });

  it('believes only the hop the trusted proxy appended, not what the client wrote before it', async () => {
    expect(await ipSeen(['loopback'], 1, '198.51.100.7')).toBe('198.51.100.7');
    // The client forged 203.0.113.9 and the proxy appended the real 198.51.100.7.
    expect(await ipSeen(['loopback'], 1, '203.0.113.9, 198.51.100.7')).toBe('198.51.100.7');
    // Even when the real client is itself in a trusted range.
    expect(await ipSeen(['loopback'], 1, '203.0.113.9, 127.0.0.5')).toBe('127.0.0.5');
    // A load balancer in front of the proxy: two hops.
    expect(await ipSeen(['127.0.0.1', '10.0.0.0/8'], 2, '203.0.113.9, 198.51.100.7, 10.1.2.3')).toBe('198.51.100.7');
  });

  it('matches v4 peers on a dual-stack socket and v6 ranges', () => {
    const trust = trustProxy(['10.0.0.0/8', 'fd00::/8'], 1);
    expect(trust('::ffff:10.1.2.3', 0)).toBe(true);
    expect(trust('fd12::1', 0)).toBe(true);
    expect(trust('11.0.0.1', 0)).toBe(false);
    expect(trust('10.1.2.3', 1)).toBe(false);
  });

  it('accepts addresses, CIDRs and named ranges only', () => {
    for (const ok of ['loopback', 'uniquelocal', 'linklocal', '10.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']) expect(isTrustProxyEntry(ok)).toBe(true);
    for (const bad of ['everyone', '10.0.0.0/33', '::/129', '10.0.0/8', 'true', '10.0.0.0/8/1', '10.0.0.0/x']) expect(isTrustProxyEntry(bad)).toBe(false);
    expect(() => trustProxy(['nope'], 1)).toThrow(/TRUST_PROXY/);
  });
});
