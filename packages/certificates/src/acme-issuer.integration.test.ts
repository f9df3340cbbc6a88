import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { freePort, startPrivatePebble, type PrivatePebble } from '@platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeIssuer, AcmeOrderFailed } from './acme-issuer.ts';
import { CertificateStore } from './certificate-store.ts';
import { ACME_ACCOUNT_KEY, certificateKey, challengeKey } from './keys.ts';
import { Sealer } from './sealing.ts';

// Against a real ACME CA (Pebble) validating HTTP-01 over loopback. The HTTP side here is a
// minimal responder reading the object store the way the proxy does (the proxy's own HTTP-01
// answers are tested in s3-reverse-proxy's https integration test).
let pebble: PrivatePebble;
let store: ObjectStore;
let dir: string;
let http: Server;
const sealer = new Sealer(randomBytes(32));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acme-issuer-'));
  store = createLocalObjectStore({ rootDir: dir });
  const port = await freePort();
  http = createServer(async (req, res) => {
    const match = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const answer = match ? await store.getBuffer(challengeKey(host, match[1]!)) : null;
    res.writeHead(answer ? 200 : 404).end(answer ?? 'no');
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  pebble = await startPrivatePebble({ httpPort: port });
});

afterAll(async () => {
  await pebble?.close();
  http?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AcmeIssuer against Pebble', () => {
  it('issues a certificate for a host with real HTTP-01 validation, chained to the CA, and removes the challenge', async () => {
    const issuer = new AcmeIssuer(store, sealer, {
      directoryUrl: pebble.directoryUrl,
      caBundlePem: pebble.acmeCaPem,
      email: 'ops@example.test',
      profile: 'default',
    });
    const issued = await issuer.issue('shop.example.test');
    const leaf = new X509Certificate(issued.certPem);
    expect(leaf.subjectAltName).toContain('DNS:shop.example.test');
    expect(await store.list('acme-challenges/')).toEqual([]);
    // The account key is kept sealed: the stored record holds no PEM.
    const account = (await store.getBuffer(ACME_ACCOUNT_KEY))!.toString('utf8');
    expect(account).not.toContain('PRIVATE KEY');

    const certs = new CertificateStore(store, sealer);
    await certs.put('shop.example.test', issued.certPem, issued.keyPem);
    expect((await store.getBuffer(certificateKey('shop.example.test')))!.toString('utf8')).not.toContain('PRIVATE KEY');
    const back = await certs.get('shop.example.test');
    expect(back?.keyPem).toBe(issued.keyPem);
    expect(back!.notAfter.getTime()).toBeGreaterThan(Date.now() + 80 * 86_400_000);
    // Another replica (a new issuer on the same store) reuses the account.
    const second = new AcmeIssuer(store, sealer, { directoryUrl: pebble.directoryUrl, caBundlePem: pebble.acmeCaPem });
    const short = await second.issue('shop.example.test', { profile: 'shortlived' });
    const shortLeaf = new X509Certificate(short.certPem);
    expect(new Date(shortLeaf.validTo).getTime() - Date.now()).toBeLessThan(pebble.shortLivedSeconds * 1000 + 5_000);
  });

  it('a certificate record moved to another hostname does not open', async () => {
    const certs = new CertificateStore(store, sealer);
    const raw = await store.getBuffer(certificateKey('shop.example.test'));
    await store.put(certificateKey('other.example.test'), raw!);
    expect(await certs.get('other.example.test')).toBeNull();
  });

  it('a failed validation throws the CA’s own words', async () => {
    const issuer = new AcmeIssuer(store, sealer, { directoryUrl: pebble.directoryUrl, caBundlePem: pebble.acmeCaPem });
    await pebble.setA('down.example.test', '127.0.0.9');
    const failure = await issuer.issue('down.example.test').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(AcmeOrderFailed);
    expect((failure as Error).message).toMatch(/connect|refused|127\.0\.0\.9/i);
  });
});
