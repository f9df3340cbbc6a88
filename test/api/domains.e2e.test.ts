import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domainRecordKey } from '@platform/contracts';
import { http } from '@platform/testing/http';
import { startPlatform, type Platform } from '@platform/testing/platform';
import { send } from '@platform/testing/proxy';

// The domains API on the embedded platform: what is refused (400 with the reason, 409, 404 for
// a stranger), and that a domain whose DNS does not prove it stays pending and unserved. The
// resolver is a closed local port, so no DNS answer can come (issuance runs against Pebble in
// api-server/src/domains/domains.integration.test.ts).
describe('custom domains API', () => {
  let platform: Platform;
  let stranger: string;
  let projectId: string;
  let otherProjectId: string;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    platform = await startPlatform({
      runner: 'idle',
      proxyHttps: { certificateStoreKey: randomBytes(32) },
      api: {
        domains: {
          certificateStoreKey: randomBytes(32),
          acme: { directoryUrl: 'https://127.0.0.1:9/dir' },
          // UDP to a port nothing answers on: every lookup fails fast with a timeout or refusal.
          dnsServers: ['127.0.0.1:9'],
          cnameTarget: 'cname.localhost',
          worker: { intervalMs: 100, retryBaseMs: 100 },
        },
      },
    });
    stranger = (await platform.signup('stranger-domains@example.test')).token;
    const created = await http(platform.api, 'POST', '/projects', { name: 'shop', gitUrl: 'https://git.example.com/shop.git' });
    projectId = created.json.project.id;
    const other = await http(platform.api, 'POST', '/projects', { name: 'blog', gitUrl: 'https://git.example.com/blog.git' }, as(stranger));
    otherProjectId = other.json.project.id;
  });
  afterAll(async () => {
    await platform?.close();
  });

  const add = (body: unknown, token?: string, project = projectId) => http(platform.api, 'POST', `/projects/${project}/domains`, body, token ? as(token) : {});

  it.each([
    ['an invalid hostname', 'exa_mple.com', /invalid label/],
    ['a hostname with a space', 'shop example.com', /invalid label/],
    ['a single label', 'localhost2', /at least two labels/],
    ['an IPv4 address', '192.168.1.10', /IP address/],
    ['an IPv6 address', '[::1]', /IP address/],
    ['a wildcard', '*.example.com', /wildcards are not allowed/],
    ['a 300-character name', `${`${'a'.repeat(60)}.`.repeat(5).slice(0, 296)}.com`, /at most 253/],
    ['a numeric top-level label', 'example.123', /top-level label/],
    ['a label over 63 characters', `${'a'.repeat(64)}.example.com`, /invalid label/],
    ['upper case', 'Shop.Example.com', /lower-case/],
  ])('refuses %s with 400 and the reason', async (_what, hostname, reason) => {
    const res = await add({ hostname });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(reason);
  });

  it('refuses names under ROOT_DOMAIN, another project’s alias included, with 400', async () => {
    for (const hostname of ['blog.localhost', 'shop.localhost', 'api.localhost', 'x.y.localhost']) {
      const res = await add({ hostname });
      expect(res.status, hostname).toBe(400);
      expect(res.json.error.message).toMatch(/under the platform's own domain localhost/);
    }
  });

  it('refuses a redirect to a domain that is not the project’s (yet), and a malformed body', async () => {
    const res = await add({ hostname: 'www.redirect.example', redirectTo: 'redirect.example' });
    expect(res.status).toBe(409);
    expect(res.json.error.message).toMatch(/must be a domain of this project: add it first/);
    expect((await add({ hostname: 'redirect.example', redirectTo: 'redirect.example' })).status).toBe(409);
    // Apex first, then www redirecting to it.
    expect((await add({ hostname: 'redirect.example' })).status).toBe(201);
    const www = await add({ hostname: 'www.redirect.example', redirectTo: 'redirect.example' });
    expect(www.status).toBe(201);
    expect(www.json.domain.redirectTo).toBe('redirect.example');
    for (const name of ['www.redirect.example', 'redirect.example']) await http(platform.api, 'DELETE', `/projects/${projectId}/domains/${name}`);
    expect((await add({ hostname: 'bad.example', hsts: 'yes' })).status).toBe(400);
    expect((await add({})).status).toBe(400);
  });

  it('a domain without its TXT record stays pending, with the records to create, and is not served', async () => {
    const res = await add({ hostname: 'shop.example.test' });
    expect(res.status).toBe(201);
    const domain = res.json.domain;
    expect(domain.status).toBe('pending');
    expect(domain.dnsRecords).toEqual([
      { type: 'TXT', name: '_platform-verification.shop.example.test', value: expect.stringMatching(/^platform-verification=[0-9a-f]{32}$/) },
      { type: 'CNAME', name: 'shop.example.test', value: 'cname.localhost' },
    ]);
    // The worker has looked at it (a pass after the kick) and says why it waits.
    let shown = domain;
    for (let i = 0; i < 100 && shown.statusReason === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shown = (await http(platform.api, 'GET', `/projects/${projectId}/domains/shop.example.test`)).json.domain;
    }
    expect(shown.status).toBe('pending');
    expect(shown.statusReason).toMatch(/waiting for DNS: TXT _platform-verification\.shop\.example\.test/);
    expect(await platform.deps.store.getBuffer(domainRecordKey('shop.example.test'))).toBeNull();
    expect((await send(platform.proxyPort!, 'shop.example.test', '/')).status).toBe(404);
    // Retry answers 202 and keeps it pending while DNS has nothing.
    const retried = await http(platform.api, 'POST', `/projects/${projectId}/domains/shop.example.test/verify`);
    expect(retried.status).toBe(202);
    expect(retried.json.domain.status).toBe('pending');
  });

  it('a second account can neither claim, read, retry nor remove it', async () => {
    const claim = await add({ hostname: 'shop.example.test' }, stranger, otherProjectId);
    expect(claim.status).toBe(409);
    expect(claim.json.error.code).toBe('domain_taken');
    // Through the owner's project: the owner guard answers 404 before anything is read.
    for (const [method, path] of [
      ['GET', `/projects/${projectId}/domains`],
      ['GET', `/projects/${projectId}/domains/shop.example.test`],
      ['POST', `/projects/${projectId}/domains/shop.example.test/verify`],
      ['DELETE', `/projects/${projectId}/domains/shop.example.test`],
      ['POST', `/projects/${projectId}/domains`],
    ] as const) {
      const res = await http(platform.api, method, path, method === 'POST' ? { hostname: 'stolen.example.test' } : undefined, as(stranger));
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    // Through the stranger's own project: not theirs, so not found.
    expect((await http(platform.api, 'GET', `/projects/${otherProjectId}/domains/shop.example.test`, undefined, as(stranger))).status).toBe(404);
    expect((await http(platform.api, 'DELETE', `/projects/${otherProjectId}/domains/shop.example.test`, undefined, as(stranger))).status).toBe(404);
    expect((await http(platform.api, 'GET', `/projects/${otherProjectId}/domains`, undefined, as(stranger))).json.domains).toEqual([]);
    const owner = await http(platform.api, 'GET', `/projects/${projectId}/domains`);
    expect(owner.json.domains.map((d: { hostname: string }) => d.hostname)).toEqual(['shop.example.test']);
  });

  it('the owner removes it; then another project may add it', async () => {
    expect((await http(platform.api, 'DELETE', `/projects/${projectId}/domains/shop.example.test`)).status).toBe(204);
    expect((await http(platform.api, 'DELETE', `/projects/${projectId}/domains/shop.example.test`)).status).toBe(404);
    const claim = await add({ hostname: 'shop.example.test' }, stranger, otherProjectId);
    expect(claim.status).toBe(201);
  });
});
