import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, Sealer } from '@platform/certificates';
import { createProxyServer, type ProxyServer } from '@platform/s3-reverse-proxy';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { freePort } from '@platform/testing/ports';
import { startPrivatePebble, type PrivatePebble } from '@platform/testing/pebble';
import { startPlatform, type Platform } from '@platform/testing/platform';
import { send } from '@platform/testing/proxy';

// Custom domains end to end against a real ACME CA: Pebble validates HTTP-01 by connecting to
// the platform's proxy (challtestsrv, its DNS, answers every name with 127.0.0.1), the
// platform proves the domain by a TXT record in that same DNS, and HTTPS is checked with
// Pebble's issuing root as the only trusted CA. Certificates come from Pebble's short-lived
// profile, so a renewal happens within the test.
const LIFETIME_S = 24;
const HOST = 'shop.example.test';

interface TlsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  serial: string;
}

function tlsGet(port: number, servername: string, ca: string, path = '/'): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername, headers: { host: servername }, ca, agent: false }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), serial }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}

describe('custom domains with certificates from Pebble', () => {
  let pebble: PrivatePebble;
  let platform: Platform;
  let secondProxy: ProxyServer;
  let secondHttpsPort: number;
  let projectId: string;
  let endpointId: string;
  const storeKey = randomBytes(32);
  const domain = () => http(platform.api, 'GET', `/projects/${projectId}/domains/${HOST}`).then((r) => r.json.domain);

  beforeAll(async () => {
    const proxyPort = await freePort();
    pebble = await startPrivatePebble({ httpPort: proxyPort, shortLivedSeconds: LIFETIME_S });
    platform = await startPlatform({
      proxyPort,
      proxyHttps: { certificateStoreKey: storeKey, certificateRefreshMs: 200 },
      api: {
        domains: {
          certificateStoreKey: storeKey,
          acme: { directoryUrl: pebble.directoryUrl, caBundlePem: pebble.acmeCaPem, email: 'ops@example.test', profile: 'shortlived' },
          dnsServers: [pebble.dnsServer],
          cnameTarget: 'cname.localhost',
          worker: { intervalMs: 250, retryBaseMs: 500 },
        },
      },
    });
    // A second proxy replica on the same object store: no database, the same certificates.
    secondProxy = createProxyServer(
      { store: platform.deps.store, bus: platform.deps.bus, logger: platform.logger },
      {
        routeTtlMs: 200,
        https: { certificates: new CertificateStore(platform.deps.store, new Sealer(storeKey)), publicPort: 443, certificateRefreshMs: 200 },
      },
    );
    await secondProxy.listen(0);
    secondHttpsPort = await secondProxy.listenHttps(0);
    const created = await http(platform.api, 'POST', '/projects', { name: 'shop', gitUrl: gitRepoFromFixture('vanilla-site') });
    projectId = created.json.project.id;
    const deployed = await http(platform.api, 'POST', '/deploy', { projectId });
    expect((await waitForDeployment(platform.api, deployed.json.deployment.id)).status).toBe('READY');
    const endpoint = await http(platform.api, 'POST', `/projects/${projectId}/notifications`, {
      url: 'http://127.0.0.1:9/hook',
      events: ['domain.renewal_failed'],
    });
    endpointId = endpoint.json.endpoint.id;
  });
  afterAll(async () => {
    await secondProxy?.close();
    await platform?.close();
    await pebble?.close();
  });

  it('refuses to certify the domain until its TXT record is there', async () => {
    const added = await http(platform.api, 'POST', `/projects/${projectId}/domains`, { hostname: HOST, hsts: true });
    expect(added.status).toBe(201);
    const pending = await waitFor('a DNS check', domain, (d) => d.statusReason !== null);
    expect(pending.status).toBe('pending');
    expect(pending.statusReason).toMatch(/waiting for DNS/);
    expect(pending.certificate).toBeNull();
    expect((await send(platform.proxyPort!, HOST, '/')).status).toBe(404);
    // The record the owner is asked to create.
    const txt = added.json.domain.dnsRecords.find((r: { type: string }) => r.type === 'TXT');
    await pebble.setTxt(txt.name, txt.value);
  });

  it('issues a certificate with real HTTP-01 validation and serves the deployment over HTTPS with SNI', async () => {
    await http(platform.api, 'POST', `/projects/${projectId}/domains/${HOST}/verify`);
    const active = await waitFor('issuance', domain, (d) => d.status === 'active' || d.status === 'failed');
    expect(active.statusReason).toBeNull();
    expect(active.status).toBe('active');
    const { notBefore, notAfter, renewAfter } = active.certificate;
    const life = Date.parse(notAfter) - Date.parse(notBefore);
    expect(Date.parse(renewAfter) - Date.parse(notBefore)).toBeCloseTo((life * 2) / 3, -3);

    // Only Pebble's issuing root is trusted: the handshake succeeds only with a chain to it.
    const page = await tlsGet(platform.httpsPort!, HOST, pebble.issuingRootPem);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>');
    expect(page.headers['strict-transport-security']).toBe('max-age=63072000');
    await expect(tlsGet(platform.httpsPort!, HOST, pebble.acmeCaPem)).rejects.toThrow(/certificate/);
    // Plain HTTP now redirects to HTTPS; the ACME path still answers over HTTP.
    const plain = await send(platform.proxyPort!, HOST, '/about?x=1');
    expect(plain.status).toBe(308);
    expect(plain.headers.location).toBe(`https://${HOST}:${platform.httpsPort}/about?x=1`);
    expect((await send(platform.proxyPort!, HOST, '/.well-known/acme-challenge/not-a-published-token-at-all')).status).toBe(404);
  });

  it('two proxy replicas serve the same certificate', async () => {
    const first = await tlsGet(platform.httpsPort!, HOST, pebble.issuingRootPem);
    const second = await tlsGet(secondHttpsPort, HOST, pebble.issuingRootPem);
    expect(second.status).toBe(200);
    expect(second.serial).toBe(first.serial);
    expect(second.text).toBe(first.text);
  });

  it('renews two thirds into the lifetime, and both replicas serve the renewed certificate', async () => {
    const before = await domain();
    const served = (await tlsGet(platform.httpsPort!, HOST, pebble.issuingRootPem)).serial;
    const renewed = await waitFor('renewal', domain, (d) => d.certificate.notAfter !== before.certificate.notAfter, LIFETIME_S * 1000 + 15_000);
    expect(renewed.status).toBe('active');
    expect(renewed.renewalError).toBeNull();
    expect(Date.parse(renewed.certificate.notBefore)).toBeGreaterThanOrEqual(Date.parse(before.certificate.renewAfter) - 1_000);
    for (const port of [platform.httpsPort!, secondHttpsPort]) {
      await waitFor(
        'the renewed certificate served',
        () => tlsGet(port, HOST, pebble.issuingRootPem).then((r) => r.serial),
        (s) => s !== served,
        5_000,
      );
    }
  });

  it('a failed renewal keeps the working certificate served, shows the CA’s words and sends a notification event', async () => {
    const before = await domain();
    const served = (await tlsGet(platform.httpsPort!, HOST, pebble.issuingRootPem)).serial;
    // Pebble's validation now goes to an address where nothing listens: the challenge fails.
    await pebble.setA(HOST, '127.0.0.9');
    const failed = await waitFor('a failed renewal', domain, (d) => d.renewalError !== null, LIFETIME_S * 1000 + 15_000);
    expect(failed.status).toBe('active');
    expect(failed.renewalError).toMatch(/127\.0\.0\.9|connect|refused/i);
    expect(failed.certificate).toEqual(before.certificate);
    const page = await tlsGet(platform.httpsPort!, HOST, pebble.issuingRootPem);
    expect(page.status).toBe(200);
    expect(page.serial).toBe(served);
    const deliveries = await waitFor(
      'the notification',
      () => http(platform.api, 'GET', `/projects/${projectId}/notifications/${endpointId}/deliveries`).then((r) => r.json.deliveries),
      (list: { event: string }[]) => list.some((d) => d.event === 'domain.renewal_failed'),
      10_000,
    );
    expect(deliveries[0]!.event).toBe('domain.renewal_failed');
    await pebble.clearA(HOST);
  });

  it('removing the domain stops serving it and deletes its certificate', async () => {
    expect((await http(platform.api, 'DELETE', `/projects/${projectId}/domains/${HOST}`)).status).toBe(204);
    expect(await new CertificateStore(platform.deps.store, new Sealer(storeKey)).get(HOST)).toBeNull();
    await waitFor(
      'the proxy forgetting it',
      () => send(platform.proxyPort!, HOST, '/').then((r) => r.status),
      (s) => s === 404,
      5_000,
    );
  });
});
