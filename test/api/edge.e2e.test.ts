import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOrUndefined } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { createProxyServer, type ProxyServer } from '@platform/s3-reverse-proxy';

const PASSWORD = 'correct horse battery staple';

/** A JSON POST to api.<root> through the proxy, from `from` (a loopback address of this machine). */
function postViaProxy(
  port: number,
  path: string,
  body: unknown,
  options: { from?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; retryAfter: string | undefined; json: any }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        localAddress: options.from ?? '127.0.0.1',
        headers: { host: 'api.example.test', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...options.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, json: jsonOrUndefined(text) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// Behind the platform's proxy every client arrives from the proxy's address; the API believes
// X-Forwarded-For only from it (TRUST_PROXY) and only the hop it appended.
describe('login and sign-up limits behind the proxy', () => {
  let platform: TestPlatform;
  let proxy: ProxyServer;
  let port: number;

  beforeAll(async () => {
    platform = await startEmbeddedPlatform({
      TRUST_PROXY: 'loopback',
      LOGIN_RATE_LIMIT_PER_MINUTE: '10',
      LOGIN_ADDRESS_RATE_LIMIT_PER_MINUTE: '30',
      SIGNUP_RATE_LIMIT_PER_MINUTE: '10',
    });
    proxy = createProxyServer(
      { store: platform.deps.store, bus: platform.deps.bus, logger: platform.logger },
      { rootDomain: 'example.test', apiUpstream: platform.api, routeTtlMs: 200 },
    );
    port = await proxy.listen(0);
    expect((await postViaProxy(port, '/auth/signup', { email: 'bystander@example.test', password: PASSWORD })).status).toBe(201);
  });

  afterAll(async () => {
    await proxy?.close();
    await platform?.close();
  });

  it('failed logins with varied X-Forwarded-For lock out only the attacker, never login and sign-up for everyone', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof postViaProxy>> | undefined;
    for (let i = 0; i < 12; i++) {
      last = await postViaProxy(
        port,
        '/auth/login',
        { email: 'owner@example.test', password: 'wrong password' },
        { headers: { 'x-forwarded-for': `203.0.113.${i}` } },
      );
      statuses.push(last.status);
    }
    // A forged X-Forwarded-For buys no fresh bucket: the proxy appends the real address, which is all the API reads.
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    expect(Number(last!.retryAfter)).toBeGreaterThan(0);
    expect(last!.json.error.code).toBe('rate_limited');
    // From the same address, another account signs in and a new one signs up.
    expect((await postViaProxy(port, '/auth/login', { email: 'bystander@example.test', password: PASSWORD })).status).toBe(200);
    expect((await postViaProxy(port, '/auth/signup', { email: 'newcomer@example.test', password: PASSWORD })).status).toBe(201);
    // The attacked account itself, from its owner's own address.
    expect((await postViaProxy(port, '/auth/login', { email: 'owner@example.test', password: PASSWORD }, { from: '127.0.0.2' })).status).toBe(200);
  });

  it('caps login attempts per address across accounts, more loosely', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      statuses.push(
        (await postViaProxy(port, '/auth/login', { email: `sprayed-${i}@example.test`, password: 'wrong password' }, { from: '127.0.0.3' })).status,
      );
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
    expect((await postViaProxy(port, '/auth/login', { email: 'bystander@example.test', password: PASSWORD }, { from: '127.0.0.4' })).status).toBe(200);
  });

  it('limits sign-up in a bucket of its own', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await postViaProxy(port, '/auth/signup', { email: `mass-${i}@example.test`, password: PASSWORD }, { from: '127.0.0.5' })).status);
    }
    expect(statuses).toEqual([...Array(10).fill(201), 429]);
    // Login from that address is untouched.
    expect((await postViaProxy(port, '/auth/login', { email: 'mass-0@example.test', password: PASSWORD }, { from: '127.0.0.5' })).status).toBe(200);
  });
});
