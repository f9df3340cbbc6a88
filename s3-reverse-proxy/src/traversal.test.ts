import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestKey, type Manifest } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { createLocalObjectStore } from '@platform/object-store';
import { createProxyServer, type ProxyServer } from './proxy.ts';
import { writeDeployment, writeRoute } from '@platform/testing/proxy';

// Secrets live outside the served deployment: at the store root, in another deployment, in
// the route records, and outside the store's folder altogether. No request may ever return one.
const SECRETS = ['SECRET-STORE-ROOT', 'SECRET-OTHER-DEPLOYMENT', 'SECRET-OUTSIDE-STORE', 'SECRET-ROUTE'];

/** Sends a raw request line (the path exactly as given, bytes and all) and returns status and body. */
function rawGet(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text });
    });
    socket.write(Buffer.concat([Buffer.from('GET '), Buffer.from(path, 'latin1'), Buffer.from(` HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)]));
  });
}

const PAYLOADS: string[] = [
  '/../secret.txt',
  '/../../secret.txt',
  '/../../../secret.txt',
  '/../../../../../../../../etc/passwd',
  '/..%2fsecret.txt',
  '/..%2f..%2fsecret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/secret.txt',
  '/%2e%2e%2fsecret.txt',
  '/%2e%2e%2f%2e%2e%2fsecret.txt',
  '/.%2e/secret.txt',
  '/%2e./secret.txt',
  '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/%252e%252e/secret.txt',
  '/%252e%252e%252fsecret.txt',
  '/%252E%252E%252Fsecret.txt',
  '/..%252fsecret.txt',
  '/.%252e/secret.txt',
  '/%25252e%25252e/secret.txt',
  '/%%32%65%%32%65/secret.txt',
  '/..\\secret.txt',
  '/..\\..\\secret.txt',
  '/\\..\\secret.txt',
  '/%5c..%5csecret.txt',
  '/..%5csecret.txt',
  '/%2e%2e%5csecret.txt',
  '/%255c..%255csecret.txt',
  '/..%255c..%255csecret.txt',
  '/./secret.txt',
  '/%2e/secret.txt',
  '/assets/../../secret.txt',
  '/assets/..%2f..%2fsecret.txt',
  '/assets/%2e%2e/%2e%2e/secret.txt',
  '/a/b/../../../secret.txt',
  '/%c0%ae%c0%ae/secret.txt',
  '/%c0%ae%c0%ae%c0%afsecret.txt',
  '/%e0%80%ae%e0%80%ae/secret.txt',
  '/..%c0%afsecret.txt',
  '/..%c1%9csecret.txt',
  '/%uff0e%uff0e/secret.txt',
  '/%ef%bc%8e%ef%bc%8e/secret.txt',
  '/secret.txt%00.html',
  '/index.html%00/../../secret.txt',
  '/..%00/secret.txt',
  '/%00',
  '/index.html\u0000',
  '/..\u0000/secret.txt',
  '//secret.txt',
  '///../secret.txt',
  '/%2fsecret.txt',
  '/%2f%2e%2e%2fsecret.txt',
  '/..;/secret.txt',
  '/..../secret.txt',
  '/....//secret.txt',
  '/secret.txt',
  '/deployments/other00000000000001/secret.txt',
  '/../other00000000000001/secret.txt',
  '/%2e%2e/other00000000000001/secret.txt',
  '/../../routes/site.localhost.json',
  '/%2e%2e/%2e%2e/routes/site.localhost.json',
  '/../_manifest.json',
  '/_manifest.json',
  '/index.html/../../secret.txt',
  '/index.html/..%2f..%2fsecret.txt',
  '/?/../../secret.txt',
  '/%3f/../../secret.txt',
  '/%23/../../secret.txt',
  '/secret.txt/.',
  '/secret.txt/..',
  'secret.txt',
  '../secret.txt',
  'http://site.localhost/../secret.txt',
  '*',
  `/${'a/'.repeat(1100)}../../secret.txt`,
  `/${'%2e%2e/'.repeat(400)}secret.txt`,
  `/${'x'.repeat(3000)}`,
];

describe('path traversal battery', () => {
  let proxy: ProxyServer;
  let port: number;
  let parent: string;
  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'proxy-traversal-'));
    const root = join(parent, 'objects');
    mkdirSync(root);
    writeFileSync(join(parent, 'secret.txt'), 'SECRET-OUTSIDE-STORE');
    const store = createLocalObjectStore({ rootDir: root });
    await store.put('secret.txt', 'SECRET-STORE-ROOT');
    await store.put('deployments/secret.txt', 'SECRET-STORE-ROOT');
    await writeDeployment(store, 'other00000000000001', { 'secret.txt': 'SECRET-OTHER-DEPLOYMENT', 'index.html': 'SECRET-OTHER-DEPLOYMENT' });
    await writeDeployment(store, 'site000000000000001', { 'index.html': '<h1>home</h1>', 'assets/app.js': 'app', '404.html': '<h1>not found</h1>' });
    await writeRoute(store, 'site.localhost', { deploymentId: 'site000000000000001', projectId: 'SECRET-ROUTE' });
    await writeRoute(store, 'spa.localhost', { deploymentId: 'site000000000000001', spa: true, projectId: 'SECRET-ROUTE' });

    // A hostile manifest: keys and variants that climb out of the deployment's prefix.
    const hostile: Manifest = {
      version: 1,
      deploymentId: 'hostile000000000001',
      createdAt: new Date().toISOString(),
      files: Object.fromEntries(
        [
          '../secret.txt',
          '../../secret.txt',
          '../../../secret.txt',
          'a/../../secret.txt',
          '/secret.txt',
          '..\\secret.txt',
          './secret.txt',
          'x//secret.txt',
          '../other00000000000001/secret.txt',
        ].map((key) => [key, { size: 23, hash: 'x', contentType: 'text/plain', cacheControl: 'no-store' }]),
      ),
    };
    hostile.files['index.html'] = {
      size: 4,
      hash: 'y',
      contentType: 'text/html',
      cacheControl: 'no-store',
      encodings: { br: { path: '../../secret.txt', size: 17 }, gzip: { path: '../other00000000000001/secret.txt', size: 23 } },
    };
    await store.put('deployments/hostile000000000001/index.html', 'safe');
    await store.put(manifestKey('hostile000000000001'), JSON.stringify(hostile));
    await writeRoute(store, 'hostile.localhost', { deploymentId: 'hostile000000000001' });

    proxy = createProxyServer({ store, bus: createInProcessEventBus(), logger: createLogger({ level: 'silent' }) }, { routeTtlMs: 1_000 });
    port = await proxy.listen(0);
  });
  afterAll(async () => {
    await proxy.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it(`has at least 50 payloads`, () => {
    expect(PAYLOADS.length).toBeGreaterThanOrEqual(50);
  });

  it('never serves anything outside the deployment, and refuses each payload with a 4xx', async () => {
    const served: string[] = [];
    for (const payload of PAYLOADS) {
      const res = await rawGet(port, 'site.localhost', payload);
      if (SECRETS.some((s) => res.body.includes(s))) served.push(payload);
      // A 4xx, or (when the traversal sits in the query string) the deployment's own home page.
      const refused = res.status >= 400 && res.status < 500;
      expect(refused || (res.status === 200 && res.body.endsWith('<h1>home</h1>')), `${JSON.stringify(payload)} → ${res.status}`).toBe(true);
    }
    expect(served).toEqual([]);
    // The proxy is still healthy afterwards.
    expect((await rawGet(port, 'site.localhost', '/')).body).toContain('<h1>home</h1>');
  });

  it('never serves a secret when unknown paths fall back to index.html (SPA)', async () => {
    for (const payload of PAYLOADS) {
      const res = await rawGet(port, 'spa.localhost', payload);
      expect(
        SECRETS.filter((s) => res.body.includes(s)),
        JSON.stringify(payload),
      ).toEqual([]);
      expect(res.status, JSON.stringify(payload)).toBeLessThan(500);
    }
  });

  it('ignores manifest entries and variants that would leave the deployment prefix', async () => {
    for (const payload of ['/../secret.txt', '/secret.txt', '/a/../../secret.txt', '/./secret.txt', '/x//secret.txt', '/..%5csecret.txt', ...PAYLOADS]) {
      const res = await rawGet(port, 'hostile.localhost', payload);
      expect(
        SECRETS.filter((s) => res.body.includes(s)),
        JSON.stringify(payload),
      ).toEqual([]);
      expect(res.status, JSON.stringify(payload)).toBeLessThan(500);
    }
    const index = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write('GET / HTTP/1.1\r\nHost: hostile.localhost\r\nAccept-Encoding: br, gzip\r\nConnection: close\r\n\r\n');
    });
    expect(index).toMatch(/^HTTP\/1\.1 200/);
    expect(index).not.toMatch(/content-encoding/i);
    expect(index.endsWith('safe')).toBe(true);
  });
});
