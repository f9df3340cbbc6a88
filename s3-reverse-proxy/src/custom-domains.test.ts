import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, challengeKey, Sealer } from '@platform/certificates';
import { domainRecordKey, type DomainRecord } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { send, writeDeployment, writeRoute } from '@platform/testing/proxy';
import { createProxyServer, type ProxyServer } from './proxy.ts';

// Custom domains in the proxy, from object-store records alone. Certificates here are
// self-signed by openssl (the ACME path is tested against Pebble in test/domains-https.integration.test.ts).
const dir = mkdtempSync(join(tmpdir(), 'custom-domains-'));
const logger = createLogger({ level: 'silent' });
const sealer = new Sealer(randomBytes(32));

function selfSigned(host: string): { certPem: string; keyPem: string } {
  const out = join(dir, host);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=DNS:${host}`,
      '-keyout',
      `${out}.key`,
      '-out',
      `${out}.crt`,
    ],
    { stdio: 'ignore' },
  );
  return { certPem: readFileSync(`${out}.crt`, 'utf8'), keyPem: readFileSync(`${out}.key`, 'utf8') };
}

async function writeDomain(store: ObjectStore, host: string, record: Partial<DomainRecord> & { serves: string }): Promise<void> {
  const full: DomainRecord = { projectId: 'prj_test', redirectTo: null, https: false, hsts: false, updatedAt: new Date().toISOString(), ...record };
  await store.put(domainRecordKey(host), JSON.stringify(full));
}

function tls(port: number, servername: string, ca: string, path = '/'): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername, headers: { host: servername }, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('custom domains in the proxy', () => {
  let store: ObjectStore;
  let proxy: ProxyServer;
  let port: number;
  let httpsPort: number;
  const shopCert = selfSigned('shop.example');
  const otherCert = selfSigned('other.example');

  beforeAll(async () => {
    store = createLocalObjectStore({ rootDir: join(dir, 'objects') });
    await writeDeployment(store, 'deploya00000000000001', { 'index.html': '<h1>shop</h1>' });
    await writeDeployment(store, 'deployb00000000000002', { 'index.html': '<h1>someone else</h1>' });
    await writeRoute(store, 'shop.localhost', { deploymentId: 'deploya00000000000001', projectId: 'prj_shop' });
    await writeRoute(store, 'taken.localhost', { deploymentId: 'deployb00000000000002', projectId: 'prj_other' });
    await writeDomain(store, 'shop.example', { serves: 'shop.localhost', projectId: 'prj_shop', https: true, hsts: true });
    await writeDomain(store, 'www.shop.example', { serves: 'shop.localhost', projectId: 'prj_shop', redirectTo: 'shop.example' });
    await writeDomain(store, 'plain.example', { serves: 'shop.localhost', projectId: 'prj_shop' });
    // A stale record of a deleted project whose slug another project took since.
    await writeDomain(store, 'stale.example', { serves: 'taken.localhost', projectId: 'prj_gone' });
    await new CertificateStore(store, sealer).put('shop.example', shopCert.certPem, shopCert.keyPem);
    proxy = createProxyServer(
      { store, bus: createInProcessEventBus(), logger },
      { routeTtlMs: 200, https: { certificates: new CertificateStore(store, sealer), publicPort: 8443, certificateRefreshMs: 100 } },
    );
    port = await proxy.listen(0);
    httpsPort = await proxy.listenHttps(0);
  });
  afterAll(async () => {
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a proved domain over HTTP before it has a certificate, without HSTS', async () => {
    const res = await send(port, 'plain.example', '/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('shop');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('redirects HTTP to HTTPS once active, keeping path and query, and sends HSTS only over HTTPS', async () => {
    const res = await send(port, 'shop.example', '/a/b?c=1');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('https://shop.example:8443/a/b?c=1');
    const secure = await tls(httpsPort, 'shop.example', shopCert.certPem);
    expect(secure.status).toBe(200);
    expect(secure.text).toContain('shop');
    expect(secure.headers['strict-transport-security']).toBe('max-age=63072000');
  });

  it('redirects www to the apex (and the reverse, whichever the record names)', async () => {
    const res = await send(port, 'www.shop.example', '/x?y=2');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('http://shop.example/x?y=2');
  });

  it('answers an ACME challenge only for the host it was published for', async () => {
    const token = 'tok_abcdefghijklmnopqrstuvwxyz012345';
    await store.put(challengeKey('plain.example', token), 'tok.keyauth');
    const ok = await send(port, 'plain.example', `/.well-known/acme-challenge/${token}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('tok.keyauth');
    // Even an active domain answers challenges over plain HTTP (renewals need it).
    await store.put(challengeKey('shop.example', token), 'shop.keyauth');
    expect((await send(port, 'shop.example', `/.well-known/acme-challenge/${token}`)).text).toBe('shop.keyauth');
    expect((await send(port, 'www.shop.example', `/.well-known/acme-challenge/${token}`)).status).toBe(404);
    expect((await send(port, 'unknown.example', `/.well-known/acme-challenge/${token}`)).status).toBe(404);
    expect((await send(port, 'plain.example', '/.well-known/acme-challenge/..%2f..%2fdomains%2fshop.example.json')).status).toBe(404);
  });

  it('does not serve another project’s deployment under a stale record', async () => {
    expect((await send(port, 'stale.example', '/')).status).toBe(404);
    expect((await send(port, 'taken.localhost', '/')).text).toContain('someone else');
  });

  it('an unknown custom domain is a 404, and a TLS name without a certificate fails the handshake', async () => {
    expect((await send(port, 'nobody.example', '/')).status).toBe(404);
    await expect(tls(httpsPort, 'other.example', otherCert.certPem)).rejects.toThrow();
    // A certificate stored under another name does not open there (sealed for its own key).
    const raw = await store.getBuffer('certificates/shop.example.json');
    await store.put('certificates/other.example.json', raw!);
    await new Promise((r) => setTimeout(r, 150));
    await expect(tls(httpsPort, 'other.example', shopCert.certPem)).rejects.toThrow();
  });

  it('serves a renewed certificate after the refresh interval', async () => {
    const renewed = selfSigned('shop.example');
    await new CertificateStore(store, sealer).put('shop.example', renewed.certPem, renewed.keyPem);
    let status = 0;
    for (let i = 0; i < 30 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await tls(httpsPort, 'shop.example', renewed.certPem).then(
        (r) => r.status,
        () => 0,
      );
    }
    expect(status).toBe(200);
  });
});
