import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentKey, manifestKey, type Manifest, type ManifestFile } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { ContentStore, createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { send, writeDeployment, writeRoute } from '@platform/testing/proxy';
import { createProxyServer, type ProxyServer } from './proxy.ts';

const logger = createLogger({ level: 'silent' });
const PROJECT = 'prj_content';
const OTHER_PROJECT = 'prj_other';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempStore(): ObjectStore {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-content-test-'));
  dirs.push(dir);
  return createLocalObjectStore({ rootDir: dir });
}

/** A version 2 deployment as the uploader writes it: content once per hash, then a manifest of path → hash. */
async function writeContentDeployment(
  store: ObjectStore,
  deploymentId: string,
  files: Record<string, string | Buffer>,
  projectId = PROJECT,
): Promise<Manifest> {
  const contents = await new ContentStore(store, projectId).load();
  const entries: Record<string, ManifestFile> = {};
  for (const [path, body] of Object.entries(files)) {
    const bytes = Buffer.from(body);
    const stored = await contents.save(bytes, path.endsWith('.html') || path.endsWith('.js'));
    const entry: ManifestFile = {
      size: stored.size,
      hash: stored.hash,
      contentType: path.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream',
      cacheControl: 'public, max-age=0, must-revalidate',
    };
    if (stored.variants.br) entry.encodings = { br: { path: '.br', size: stored.variants.br.size } };
    entries[path] = entry;
  }
  const manifest: Manifest = { version: 2, deploymentId, projectId, createdAt: new Date().toISOString(), files: entries };
  await store.put(manifestKey(deploymentId), JSON.stringify(manifest));
  return manifest;
}

async function startProxy(store: ObjectStore, fileCacheMaxFileBytes = 8 * 1024 * 1024): Promise<{ proxy: ProxyServer; port: number }> {
  const proxy = createProxyServer({ store, bus: createInProcessEventBus(), logger }, { routeTtlMs: 200, requestLogFlushMs: 50, fileCacheMaxFileBytes });
  return { proxy, port: await proxy.listen(0) };
}

const PAGE = `<!doctype html><title>home</title>${'<p>the same page in two deployments</p>'.repeat(60)}`;

describe('content-addressed deployments (manifest version 2)', () => {
  let store: ObjectStore;
  let proxy: ProxyServer;
  let port: number;
  let manifest: Manifest;
  beforeAll(async () => {
    store = tempStore();
    manifest = await writeContentDeployment(store, 'depv2a000000000000001', { 'index.html': PAGE, 'about.html': '<h1>about</h1>' });
    await writeContentDeployment(store, 'depv2b000000000000002', { 'index.html': PAGE, 'about.html': '<h1>about, changed</h1>' });
    await writeDeployment(store, 'depv1a000000000000003', { 'index.html': '<h1>old layout</h1>' });
    await writeRoute(store, 'a.localhost', { deploymentId: 'depv2a000000000000001', projectId: PROJECT });
    await writeRoute(store, 'b.localhost', { deploymentId: 'depv2b000000000000002', projectId: PROJECT });
    await writeRoute(store, 'old.localhost', { deploymentId: 'depv1a000000000000003', projectId: PROJECT });
    ({ proxy, port } = await startProxy(store));
  });
  afterAll(() => proxy.close());

  it('serves both layouts: content by hash for version 2, per-deployment keys for version 1', async () => {
    expect((await send(port, 'a.localhost', '/about')).text).toBe('<h1>about</h1>');
    expect((await send(port, 'b.localhost', '/about')).text).toBe('<h1>about, changed</h1>');
    expect((await send(port, 'old.localhost', '/')).text).toBe('<h1>old layout</h1>');
    const br = await send(port, 'a.localhost', '/', { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(PAGE);
  });

  it('stores one copy of a content shared by two deployments, and its cache entry serves both', async () => {
    const keys = await store.list(`content/${PROJECT}/`);
    expect(keys.filter((k) => k.endsWith(manifest.files['index.html']!.hash))).toHaveLength(1);
    const first = await send(port, 'a.localhost', '/', { 'accept-encoding': 'identity' });
    expect(first.text).toBe(PAGE);
    const other = await send(port, 'b.localhost', '/', { 'accept-encoding': 'identity' });
    expect(other.text).toBe(PAGE);
    expect(other.headers['x-cache']).toBe('HIT');
  });
});

describe('hostile writers against content-addressed files', () => {
  it('a write-once put under a served hash changes nothing: the original bytes stay', async () => {
    const store = tempStore();
    const m = await writeContentDeployment(store, 'dephost00000000000001', { 'index.html': '<h1>the real page</h1>' });
    await writeRoute(store, 'victim.localhost', { deploymentId: 'dephost00000000000001', projectId: PROJECT });
    // Another build (or upload) of the project writes its own bytes under the victim's hash.
    const key = contentKey(PROJECT, m.files['index.html']!.hash);
    await store.put(key, '<h1>hijacked page!!!</h1>', { ifAbsent: true });
    await new ContentStore(store, PROJECT).save(Buffer.from('<h1>hijacked page!!!</h1>'), false, m.files['index.html']!.hash).catch(() => {});
    const { proxy, port } = await startProxy(store);
    try {
      expect((await send(port, 'victim.localhost', '/')).text).toBe('<h1>the real page</h1>');
    } finally {
      await proxy.close();
    }
  });

  it('bytes replaced around the platform (same size) are never served or cached: 502, and a cached copy keeps serving', async () => {
    const store = tempStore();
    const real = '<h1>the real page</h1>';
    const m = await writeContentDeployment(store, 'dephost00000000000002', { 'index.html': real });
    await writeRoute(store, 'victim.localhost', { deploymentId: 'dephost00000000000002', projectId: PROJECT });
    const warm = await startProxy(store);
    const cold = await startProxy(store);
    try {
      expect((await send(warm.port, 'victim.localhost', '/')).text).toBe(real);
      // A plain put replaces the object: what a writer with raw store access could do.
      const forged = '<h1>the fake page</h1>';
      expect(forged.length).toBe(real.length);
      await store.put(contentKey(PROJECT, m.files['index.html']!.hash), forged);
      const fresh = await send(cold.port, 'victim.localhost', '/');
      expect(fresh.status).toBe(502);
      expect(fresh.text).not.toContain('fake');
      const again = await send(cold.port, 'victim.localhost', '/');
      expect(again.status).toBe(502);
      expect((await send(warm.port, 'victim.localhost', '/')).text).toBe(real);
    } finally {
      await warm.proxy.close();
      await cold.proxy.close();
    }
  });

  it('a forged variant (valid brotli of other bytes) is refused', async () => {
    const store = tempStore();
    const m = await writeContentDeployment(store, 'dephost00000000000003', { 'index.html': PAGE });
    await writeRoute(store, 'victim.localhost', { deploymentId: 'dephost00000000000003', projectId: PROJECT });
    const file = m.files['index.html']!;
    const forged = brotliCompressSync(Buffer.from(PAGE.replace('home', 'evil')));
    await store.put(contentKey(PROJECT, file.hash, 'br'), forged);
    // Keep the size the manifest names, so only the content check can catch it.
    file.encodings!.br!.size = forged.length;
    await store.put(manifestKey('dephost00000000000003'), JSON.stringify(m));
    const { proxy, port } = await startProxy(store);
    try {
      const res = await send(port, 'victim.localhost', '/', { 'accept-encoding': 'br' });
      expect(res.status).toBe(502);
      expect((await send(port, 'victim.localhost', '/', { 'accept-encoding': 'identity' })).text).toBe(PAGE);
    } finally {
      await proxy.close();
    }
  });

  it('a streamed large file with forged bytes never reaches the client whole, and no range of it is served', async () => {
    const store = tempStore();
    const big = Buffer.alloc(300_000, 7);
    const m = await writeContentDeployment(store, 'dephost00000000000004', { 'big.bin': big });
    await writeRoute(store, 'victim.localhost', { deploymentId: 'dephost00000000000004', projectId: PROJECT });
    const forged = Buffer.alloc(big.length, 8);
    await store.put(contentKey(PROJECT, m.files['big.bin']!.hash), forged);
    const { proxy, port } = await startProxy(store, 64 * 1024);
    try {
      const whole = await send(port, 'victim.localhost', '/big.bin').catch((err: Error) => ({ status: -1, body: Buffer.alloc(0), error: err }));
      expect(whole.body.length).toBeLessThan(big.length);
      const range = await send(port, 'victim.localhost', '/big.bin', { range: 'bytes=0-99' });
      expect(range.status).toBe(502);
    } finally {
      await proxy.close();
    }
  });

  it('a large file whose bytes match is streamed whole, and ranges of it are served', async () => {
    const store = tempStore();
    const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    await writeContentDeployment(store, 'dephost00000000000005', { 'big.bin': big });
    await writeRoute(store, 'ok.localhost', { deploymentId: 'dephost00000000000005', projectId: PROJECT });
    const { proxy, port } = await startProxy(store, 64 * 1024);
    try {
      expect((await send(port, 'ok.localhost', '/big.bin')).body.equals(big)).toBe(true);
      const range = await send(port, 'ok.localhost', '/big.bin', { range: 'bytes=1000-1099' });
      expect(range.status).toBe(206);
      expect(range.body.equals(big.subarray(1000, 1100))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a manifest that names another project gets nothing from that project', async () => {
    const store = tempStore();
    await writeContentDeployment(store, 'depother0000000000001', { 'index.html': '<h1>secret of another tenant</h1>' }, OTHER_PROJECT);
    // The attacker's own route, pointing at a manifest that reads the other project's namespace.
    await writeRoute(store, 'attacker.localhost', { deploymentId: 'depother0000000000001', projectId: PROJECT });
    const { proxy, port } = await startProxy(store);
    try {
      const res = await send(port, 'attacker.localhost', '/');
      expect(res.status).toBe(502);
      expect(res.text).not.toContain('secret');
    } finally {
      await proxy.close();
    }
  });
});
