import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LOGS_TOPIC, requestLogEventSchema, routeKey, type RequestLogEvent } from '@platform/contracts';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { createProxyServer, type ProxyOptions, type ProxyServer } from './proxy.ts';
import { send, writeDeployment, writeRoute } from '@platform/testing/proxy';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempStore(): ObjectStore {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-test-'));
  dirs.push(dir);
  return createLocalObjectStore({ rootDir: dir });
}

async function startProxy(store: ObjectStore, options: Partial<ProxyOptions> = {}, bus: EventBus = createInProcessEventBus()) {
  const proxy = createProxyServer({ store, bus, logger }, { routeTtlMs: 200, requestLogFlushMs: 50, ...options });
  const port = await proxy.listen(0);
  return { proxy, port, get: (host: string, path = '/', headers: Record<string, string> = {}, method = 'GET') => send(port, host, path, headers, method) };
}

const PAGE = (title: string) => `<!doctype html><title>${title}</title><h1>${title}</h1>`;

describe('hostnames and route records', () => {
  let store: ObjectStore;
  let proxy: ProxyServer;
  let get: Awaited<ReturnType<typeof startProxy>>['get'];
  beforeAll(async () => {
    store = tempStore();
    await writeDeployment(store, 'deploya00000000000001', { 'index.html': PAGE('deployment A') });
    await writeDeployment(store, 'deployb00000000000002', { 'index.html': PAGE('deployment B') });
    await writeRoute(store, 'shop.localhost', { deploymentId: 'deployb00000000000002' });
    await writeRoute(store, 'shop-deploya00.localhost', { deploymentId: 'deploya00000000000001' });
    await writeRoute(store, 'shop-git-feature-x.localhost', { deploymentId: 'deploya00000000000001' });
    await writeRoute(store, 'www.shop.example', { deploymentId: 'deployb00000000000002' });
    ({ proxy, get } = await startProxy(store));
  });
  afterAll(() => proxy.close());

  it('serves the production alias, the per-deployment host, the branch alias and a custom domain', async () => {
    expect((await get('shop.localhost')).text).toContain('deployment B');
    expect((await get('shop-deploya00.localhost')).text).toContain('deployment A');
    expect((await get('shop-git-feature-x.localhost')).text).toContain('deployment A');
    expect((await get('www.shop.example')).text).toContain('deployment B');
  });

  it('ignores the port, letter case and a trailing dot of the Host header', async () => {
    expect((await get('SHOP.localhost:8000')).text).toContain('deployment B');
    expect((await get('shop.localhost.')).text).toContain('deployment B');
  });

  it('answers 404 for unknown hosts and 400 for hostile Host headers', async () => {
    expect((await get('nobody.localhost')).status).toBe(404);
    expect((await get('a.shop.localhost')).status).toBe(404);
    expect((await get('localhost')).status).toBe(404);
    for (const host of [
      'shop.localhost/../x',
      'shop..localhost',
      '-shop.localhost',
      'shop_localhost',
      '[::1]:8000',
      'a'.repeat(300),
      'shop.localhost:99999',
      'shop.localhost%00',
      'user@shop.localhost',
    ]) {
      const res = await get(host);
      expect([400, 404], host).toContain(res.status);
      expect(res.text).not.toContain('deployment');
    }
    expect((await send((proxy.server.address() as AddressInfo).port, undefined, '/')).status).toBe(400);
  });

  it('serves a changed route record (rollback) within the TTL', async () => {
    await writeRoute(store, 'roll.localhost', { deploymentId: 'deployb00000000000002' });
    expect((await get('roll.localhost')).text).toContain('deployment B');
    await writeRoute(store, 'roll.localhost', { deploymentId: 'deploya00000000000001' });
    await sleep(200 + 20);
    expect((await get('roll.localhost')).text).toContain('deployment A');
  });

  it('starts serving a newly published host within the TTL of its cached miss', async () => {
    expect((await get('late.localhost')).status).toBe(404);
    await writeRoute(store, 'late.localhost', { deploymentId: 'deploya00000000000001' });
    await sleep(220);
    expect((await get('late.localhost')).status).toBe(200);
  });

  it('answers 405 to methods other than GET and HEAD', async () => {
    const res = await get('shop.localhost', '/', {}, 'POST');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('path resolution', () => {
  let store: ObjectStore;
  let proxy: ProxyServer;
  let get: Awaited<ReturnType<typeof startProxy>>['get'];
  beforeAll(async () => {
    store = tempStore();
    const files = {
      'index.html': PAGE('home'),
      'about.html': PAGE('about page'),
      'docs/index.html': PAGE('docs index'),
      'docs/intro.html': PAGE('docs intro'),
      'app.js': 'console.log(1)',
      'café.txt': 'unicode name',
      '404.html': PAGE('custom not found'),
    };
    await writeDeployment(store, 'site00000000000000001', files);
    await writeRoute(store, 'site.localhost', { deploymentId: 'site00000000000000001' });
    await writeRoute(store, 'spa.localhost', { deploymentId: 'site00000000000000001', spa: true });
    await writeDeployment(store, 'bare0000000000000001', { 'index.html': PAGE('bare') });
    await writeRoute(store, 'bare.localhost', { deploymentId: 'bare0000000000000001' });
    ({ proxy, get } = await startProxy(store));
  });
  afterAll(() => proxy.close());

  it('serves the exact file with its content type', async () => {
    const res = await get('site.localhost', '/app.js');
    expect(res.status).toBe(200);
    expect(res.text).toBe('console.log(1)');
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('site.localhost', '/caf%C3%A9.txt')).text).toBe('unicode name');
  });

  it('serves path/index.html for a folder, with and without the slash, and / as index.html', async () => {
    expect((await get('site.localhost', '/')).text).toContain('home');
    expect((await get('site.localhost', '/docs')).text).toContain('docs index');
    expect((await get('site.localhost', '/docs/')).text).toContain('docs index');
  });

  it('serves path.html for a clean URL', async () => {
    expect((await get('site.localhost', '/about')).text).toContain('about page');
    expect((await get('site.localhost', '/docs/intro')).text).toContain('docs intro');
  });

  it('ignores the query string when resolving', async () => {
    expect((await get('site.localhost', '/about?utm=1&x=%2e%2e')).text).toContain('about page');
  });

  it("answers unknown paths with the deployment's 404.html and status 404", async () => {
    const res = await get('site.localhost', '/no/such/page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('custom not found');
    expect(res.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    expect(res.headers.etag).toBeUndefined();
  });

  it('falls back to index.html with 200 when the project is a single-page app', async () => {
    const res = await get('spa.localhost', '/dashboard/settings');
    expect(res.status).toBe(200);
    expect(res.text).toContain('home');
    // Real files still win over the fallback.
    expect((await get('spa.localhost', '/app.js')).text).toBe('console.log(1)');
  });

  it("answers the platform's 404 page when the deployment has no 404.html", async () => {
    const res = await get('bare.localhost', '/missing');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('could not be found');
  });

  it('never serves the manifest', async () => {
    const res = await get('site.localhost', '/_manifest.json');
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('"files"');
  });
});

describe('vercel.json rules', () => {
  let store: ObjectStore;
  let proxy: ProxyServer;
  let get: Awaited<ReturnType<typeof startProxy>>['get'];
  beforeAll(async () => {
    store = tempStore();
    const files = {
      'index.html': PAGE('home'),
      'about.html': PAGE('about page'),
      'docs/index.html': PAGE('docs index'),
      'blog/post.html': PAGE('blog post template'),
      'app.js': 'js',
      'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      '404.html': PAGE('custom not found'),
    };
    await writeDeployment(store, 'rules000000000000001', files, {
      cleanUrls: true,
      redirects: [
        { source: '/old-blog/:slug', destination: '/blog/:slug', statusCode: 301 },
        { source: '/temp', destination: '/about', statusCode: 302 },
        { source: '/see-other', destination: '/about', statusCode: 303 },
        { source: '/moved/:path*', destination: '/docs/:path*', statusCode: 307 },
        { source: '/perm', destination: '/about', statusCode: 308 },
        { source: '/twitter', destination: 'https://twitter.example/acme', statusCode: 307 },
        { source: '/user/:id(\\d+)', destination: '/profile?id=:id', statusCode: 302 },
        { source: '/files/(.*)', destination: '/assets/$1', statusCode: 301 },
      ],
      rewrites: [
        { source: '/blog/:slug', destination: '/blog/post.html' },
        { source: '/api/(.*)', destination: '/nothing-here.json' },
        { source: '/app/:path*', destination: '/index.html' },
      ],
      headers: [
        { source: '/(.*)', headers: [{ key: 'X-Frame-Options', value: 'DENY' }] },
        {
          source: '/assets/(.*)',
          headers: [
            { key: 'Cache-Control', value: 'public, max-age=60' },
            { key: 'Content-Length', value: '1' },
          ],
        },
        { source: '/blog/:slug', headers: [{ key: 'X-Slug', value: ':slug' }] },
        {
          source: '/temp',
          headers: [
            { key: 'Cache-Control', value: 'public, max-age=300' },
            { key: 'Location', value: '/hijack' },
          ],
        },
        { source: '/nope', headers: [{ key: 'Content-Type', value: 'text/plain' }] },
      ],
    });
    await writeRoute(store, 'rules.localhost', { deploymentId: 'rules000000000000001' });
    await writeDeployment(store, 'slash000000000000001', files, { trailingSlash: true });
    await writeRoute(store, 'slash.localhost', { deploymentId: 'slash000000000000001' });
    await writeDeployment(store, 'noslash00000000000001', files, { trailingSlash: false });
    await writeRoute(store, 'noslash.localhost', { deploymentId: 'noslash00000000000001' });
    await writeDeployment(store, 'cleanslash0000000001', files, { cleanUrls: true, trailingSlash: true });
    await writeRoute(store, 'cleanslash.localhost', { deploymentId: 'cleanslash0000000001' });
    ({ proxy, get } = await startProxy(store));
  });
  afterAll(() => proxy.close());

  it('redirects with the configured status, parameters filled in, query kept', async () => {
    const cases: [string, number, string][] = [
      ['/old-blog/hello', 301, '/blog/hello'],
      ['/old-blog/hello?ref=x', 301, '/blog/hello?ref=x'],
      ['/temp', 302, '/about'],
      ['/see-other', 303, '/about'],
      ['/moved/a/b/c', 307, '/docs/a/b/c'],
      ['/moved', 307, '/docs/'],
      ['/perm', 308, '/about'],
      ['/twitter', 307, 'https://twitter.example/acme'],
      ['/user/42?tab=1', 302, '/profile?id=42&tab=1'],
      ['/files/logo.png', 301, '/assets/logo.png'],
      ['/old-blog/caf%C3%A9', 301, '/blog/caf%C3%A9'],
    ];
    for (const [path, status, location] of cases) {
      const res = await get('rules.localhost', path);
      expect({ path, status: res.status, location: res.headers.location }).toEqual({ path, status, location });
    }
    // A parameter pattern that does not match is not a redirect.
    expect((await get('rules.localhost', '/user/abc')).status).toBe(404);
  });

  it('rewrites to another file with status 200, the URL unchanged', async () => {
    const res = await get('rules.localhost', '/blog/my-first-post');
    expect(res.status).toBe(200);
    expect(res.text).toContain('blog post template');
    expect((await get('rules.localhost', '/app/settings/profile')).text).toContain('home');
    // A rewrite to a file that does not exist is a 404, not a crash.
    expect((await get('rules.localhost', '/api/users')).status).toBe(404);
  });

  it('adds header rules, later rules overriding defaults, never the framing headers', async () => {
    const home = await get('rules.localhost', '/');
    expect(home.headers['x-frame-options']).toBe('DENY');
    const logo = await get('rules.localhost', '/assets/logo.png');
    expect(logo.headers['x-frame-options']).toBe('DENY');
    expect(logo.headers['cache-control']).toBe('public, max-age=60');
    expect(logo.headers['content-length']).toBe('4');
    expect(logo.body).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect((await get('rules.localhost', '/blog/hello')).headers['x-slug']).toBe('hello');
    // Header rules apply to redirects and 404 answers too.
    expect((await get('rules.localhost', '/temp')).headers['x-frame-options']).toBe('DENY');
    const nope = await get('rules.localhost', '/nope');
    expect(nope.headers['x-frame-options']).toBe('DENY');
    // On a file answer (here the deployment's 404.html) a rule may set the content type.
    expect(nope.headers['content-type']).toBe('text/plain');
    const temp = await get('rules.localhost', '/temp');
    expect(temp.headers['cache-control']).toBe('public, max-age=300');
    expect(temp.headers.location).toBe('/about');
  });

  it('cleanUrls: /about.html and /index.html redirect (308) to their clean form', async () => {
    const cases: [string, string][] = [
      ['/about.html', '/about'],
      ['/index.html', '/'],
      ['/index', '/'],
      ['/docs/index.html', '/docs'],
      ['/about.html?x=1', '/about?x=1'],
    ];
    for (const [path, location] of cases) {
      const res = await get('rules.localhost', path);
      expect({ path, status: res.status, location: res.headers.location }).toEqual({ path, status: 308, location });
    }
    expect((await get('rules.localhost', '/about')).text).toContain('about page');
  });

  it('trailingSlash: true adds the slash to page paths, not to files', async () => {
    expect((await get('slash.localhost', '/about')).headers.location).toBe('/about/');
    expect((await get('slash.localhost', '/about')).status).toBe(308);
    expect((await get('slash.localhost', '/about/')).text).toContain('about page');
    expect((await get('slash.localhost', '/docs/')).text).toContain('docs index');
    expect((await get('slash.localhost', '/app.js')).status).toBe(200);
    expect((await get('slash.localhost', '/app.js/')).headers.location).toBe('/app.js');
    expect((await get('slash.localhost', '/')).status).toBe(200);
  });

  it('trailingSlash: false removes it', async () => {
    const res = await get('noslash.localhost', '/docs/?q=1');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('/docs?q=1');
    expect((await get('noslash.localhost', '/docs')).text).toContain('docs index');
    expect((await get('noslash.localhost', '/')).status).toBe(200);
  });

  it('cleanUrls with trailingSlash: /about.html → /about/', async () => {
    expect((await get('cleanslash.localhost', '/about.html')).headers.location).toBe('/about/');
    expect((await get('cleanslash.localhost', '/docs/index.html')).headers.location).toBe('/docs/');
  });
});

describe('HTTP: ETag, ranges, HEAD, encodings, cache', () => {
  let store: ObjectStore;
  let proxy: ProxyServer;
  let get: Awaited<ReturnType<typeof startProxy>>['get'];
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(200);
  const big = Buffer.alloc(300_000, 'abcdefghij');
  beforeAll(async () => {
    store = tempStore();
    await writeDeployment(store, 'http0000000000000001', {
      'index.html': { body: text, compress: true },
      'data.bin': { body: Buffer.from('0123456789'), contentType: 'application/octet-stream' },
      'big.txt': big,
      'fresh.txt': 'fresh',
      '404.html': PAGE('nf'),
    });
    await writeRoute(store, 'http.localhost', { deploymentId: 'http0000000000000001' });
    ({ proxy, get } = await startProxy(store, { fileCacheMaxFileBytes: 100_000 }));
  });
  afterAll(() => proxy.close());

  it('answers If-None-Match with 304 and no body', async () => {
    const first = await get('http.localhost', '/data.bin');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await get('http.localhost', '/data.bin', { 'if-none-match': inm });
      expect(res.status, inm).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers.etag).toBe(etag);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    expect((await get('http.localhost', '/data.bin', { 'if-none-match': '"stale"' })).status).toBe(200);
    // 404 answers are never 304.
    expect((await get('http.localhost', '/missing', { 'if-none-match': '*' })).status).toBe(404);
  });

  it('serves byte ranges with 206 and unsatisfiable ones with 416', async () => {
    const cases: [string, number, string, string | undefined][] = [
      ['bytes=0-3', 206, '0123', 'bytes 0-3/10'],
      ['bytes=7-', 206, '789', 'bytes 7-9/10'],
      ['bytes=-2', 206, '89', 'bytes 8-9/10'],
      ['bytes=5-100', 206, '56789', 'bytes 5-9/10'],
      ['bytes=10-20', 416, '', 'bytes */10'],
      ['bytes=0-1,4-5', 200, '0123456789', undefined],
      ['items=0-3', 200, '0123456789', undefined],
    ];
    for (const [range, status, body, contentRange] of cases) {
      const res = await get('http.localhost', '/data.bin', { range });
      expect({ range, status: res.status, body: res.text, contentRange: res.headers['content-range'] }).toEqual({ range, status, body, contentRange });
    }
    const etag = (await get('http.localhost', '/data.bin')).headers.etag as string;
    expect((await get('http.localhost', '/data.bin', { range: 'bytes=0-3', 'if-range': etag })).status).toBe(206);
    expect((await get('http.localhost', '/data.bin', { range: 'bytes=0-3', 'if-range': '"old"' })).text).toBe('0123456789');
    // Ranges of a file too big for the memory cache come straight from storage.
    const part = await get('http.localhost', '/big.txt', { range: 'bytes=100000-100009' });
    expect(part.status).toBe(206);
    expect(part.body).toEqual(big.subarray(100_000, 100_010));
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const getRes = await get('http.localhost', '/index.html');
    const head = await get('http.localhost', '/index.html', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    for (const name of ['content-type', 'etag', 'cache-control', 'vary']) expect(head.headers[name]).toBe(getRes.headers[name]);
    expect((await get('http.localhost', '/missing', {}, 'HEAD')).status).toBe(404);
  });

  it('chooses brotli or gzip by Accept-Encoding, with Vary and a distinct ETag', async () => {
    const br = await get('http.localhost', '/', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(brotliDecompressSync(br.body).toString()).toBe(text);
    const gz = await get('http.localhost', '/', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(text);
    expect(gz.headers.etag).not.toBe(br.headers.etag);
    const preferGzip = await get('http.localhost', '/', { 'accept-encoding': 'br;q=0.5, gzip;q=0.9' });
    expect(preferGzip.headers['content-encoding']).toBe('gzip');
    const refused = await get('http.localhost', '/', { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.text).toBe(text);
    const none = await get('http.localhost', '/');
    expect(none.headers['content-encoding']).toBeUndefined();
    expect(none.headers.vary).toBe('Accept-Encoding');
    expect(none.text).toBe(text);
    // A conditional request is matched against the variant it would get.
    expect((await get('http.localhost', '/', { 'accept-encoding': 'br', 'if-none-match': br.headers.etag as string })).status).toBe(304);
    // Files without variants do not vary.
    expect((await get('http.localhost', '/data.bin')).headers.vary).toBeUndefined();
  });

  it('reports memory-cache hits in x-cache and streams files too big to cache', async () => {
    const first = await get('http.localhost', '/fresh.txt');
    const second = await get('http.localhost', '/fresh.txt');
    expect(first.headers['x-cache']).toBe('MISS');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual(first.body);
    const bigRes = await get('http.localhost', '/big.txt');
    expect(bigRes.body.equals(big)).toBe(true);
    expect((await get('http.localhost', '/big.txt')).headers['x-cache']).toBe('MISS');
    expect(proxy.stats().fileCache.bytes).toBeLessThan(100_000 * 3);
  });
});

describe('request timeouts', () => {
  it('cuts off a client that sends its request too slowly (slowloris)', async () => {
    const { proxy, port } = await startProxy(tempStore(), { requestTimeoutMs: 400 });
    try {
      const dripped = await new Promise<{ elapsed: number; text: string }>((resolve, reject) => {
        const started = Date.now();
        const socket = connect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('error', reject);
        socket.write('GET / HTTP/1.1\r\nHost: shop.localhost\r\n');
        // One header byte every 50 ms: never silent long enough for an idle timeout.
        const drip = setInterval(() => socket.writable && socket.write('X'), 50);
        socket.on('close', () => {
          clearInterval(drip);
          resolve({ elapsed: Date.now() - started, text });
        });
      });
      expect(dripped.elapsed).toBeLessThan(3_000);
      expect(dripped.text === '' || dripped.text.startsWith('HTTP/1.1 408')).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('closes a connection that sends nothing', async () => {
    const { proxy, port } = await startProxy(tempStore(), { requestTimeoutMs: 400 });
    try {
      const silent = await new Promise<number>((resolve, reject) => {
        const started = Date.now();
        const socket = connect(port, '127.0.0.1');
        const giveUp = setTimeout(() => {
          socket.destroy();
          reject(new Error(`a silent connection was still open after 10 s (bytes read by the client: ${socket.bytesRead})`));
        }, 10_000);
        socket.on('close', () => {
          clearTimeout(giveUp);
          resolve(Date.now() - started);
        });
        socket.on('error', () => {});
      });
      expect(silent).toBeLessThan(3_000);
    } finally {
      await proxy.close();
    }
  });
});

describe('storage failures', () => {
  it('answers 502 (or 504 on a timeout) when storage fails, and keeps serving', async () => {
    const real = tempStore();
    await writeDeployment(real, 'fail0000000000000001', {
      'index.html': PAGE('ok'),
      'broken.html': PAGE('x'),
      'slow.html': PAGE('slow'),
      'gone.html': PAGE('gone'),
    });
    await writeRoute(real, 'fail.localhost', { deploymentId: 'fail0000000000000001' });
    await real.delete(['deployments/fail0000000000000001/gone.html']);
    const store: ObjectStore = {
      ...real,
      getBuffer: async (key) => {
        if (key.endsWith('broken.html')) throw new Error('connection reset by storage');
        if (key.endsWith('slow.html')) await sleep(500);
        return real.getBuffer(key);
      },
    };
    const { proxy, get } = await startProxy(store, { storageTimeoutMs: 100 });
    try {
      const broken = await get('fail.localhost', '/broken.html');
      expect(broken.status).toBe(502);
      expect(broken.text).toContain('502');
      expect((await get('fail.localhost', '/gone.html')).status).toBe(502);
      expect((await get('fail.localhost', '/slow.html')).status).toBe(504);
      expect((await get('fail.localhost', '/')).text).toContain('ok');
    } finally {
      await proxy.close();
    }
  });

  it('keeps serving the last known route when storage fails, and a missing manifest is a 404', async () => {
    const real = tempStore();
    await writeDeployment(real, 'stale000000000000001', { 'index.html': PAGE('still here') });
    await writeRoute(real, 'stale.localhost', { deploymentId: 'stale000000000000001' });
    await writeRoute(real, 'orphan.localhost', { deploymentId: 'nomanifest0000000001' });
    let down = false;
    const store: ObjectStore = {
      ...real,
      getBuffer: async (key) => {
        if (down && key.startsWith('routes/')) throw new Error('storage is down');
        return real.getBuffer(key);
      },
    };
    const { proxy, get } = await startProxy(store, { routeTtlMs: 50 });
    try {
      expect((await get('stale.localhost')).text).toContain('still here');
      down = true;
      await sleep(80);
      expect((await get('stale.localhost')).text).toContain('still here');
      expect((await get('never-seen.localhost')).status).toBe(502);
      expect((await get('orphan.localhost')).status).toBe(502);
      down = false;
      await sleep(60);
      expect((await get('orphan.localhost')).status).toBe(404);
    } finally {
      await proxy.close();
    }
  });

  it('ignores route records that are not valid JSON or name an invalid deployment id', async () => {
    const store = tempStore();
    await store.put(routeKey('junk.localhost'), '{not json');
    await store.put(routeKey('evil.localhost'), JSON.stringify({ deploymentId: '../secret', projectId: 'p', updatedAt: 'x' }));
    const { proxy, get } = await startProxy(store);
    try {
      expect((await get('junk.localhost')).status).toBe(404);
      expect((await get('evil.localhost')).status).toBe(404);
    } finally {
      await proxy.close();
    }
  });
});

describe('request logs', () => {
  it('publishes one event per request on the request-logs topic, in batches', async () => {
    const store = tempStore();
    await writeDeployment(store, 'logs0000000000000001', { 'index.html': PAGE('logged'), '404.html': PAGE('nf') });
    await writeRoute(store, 'logs.localhost', { deploymentId: 'logs0000000000000001', projectId: 'prj_logs' });
    const bus = createInProcessEventBus();
    const events: RequestLogEvent[] = [];
    const batches: number[] = [];
    await bus.subscribe(REQUEST_LOGS_TOPIC, { groupId: 'test' }, async (messages) => {
      batches.push(messages.length);
      for (const m of messages) events.push(requestLogEventSchema.parse(JSON.parse(m.value)));
    });
    const { proxy, get } = await startProxy(store, { requestLogFlushMs: 60_000 }, bus);
    await get('logs.localhost', '/');
    await get('logs.localhost', '/');
    await get('logs.localhost', '/missing?secret=1');
    await get('logs.localhost', '/', {}, 'HEAD');
    await get('nobody.localhost', '/');
    await proxy.close(); // flushes
    expect(batches).toEqual([4]);
    expect(events.map((e) => [e.method, e.path, e.status, e.cache])).toEqual([
      ['GET', '/', 200, 'MISS'],
      ['GET', '/', 200, 'HIT'],
      ['GET', '/missing', 404, 'MISS'],
      ['HEAD', '/', 200, 'NONE'],
    ]);
    expect(events[0]).toMatchObject({
      host: 'logs.localhost',
      projectId: 'prj_logs',
      deploymentId: 'logs0000000000000001',
      bytes: Buffer.byteLength(PAGE('logged')),
    });
    expect(events[3]!.bytes).toBe(0);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
    for (const e of events) {
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
      expect(Math.abs(e.ts - Date.now())).toBeLessThan(60_000);
    }
  });

  it('never fails or delays a request when the bus refuses logs, and delivers them once it recovers', async () => {
    const store = tempStore();
    await writeDeployment(store, 'logs0000000000000002', { 'index.html': PAGE('served anyway') });
    await writeRoute(store, 'bus.localhost', { deploymentId: 'logs0000000000000002' });
    const inner = createInProcessEventBus();
    const delivered: string[] = [];
    await inner.subscribe(REQUEST_LOGS_TOPIC, { groupId: 'test' }, async (messages) => {
      delivered.push(...messages.map((m) => m.value));
    });
    let broken = true;
    const bus: EventBus = {
      ...inner,
      publish: async (topic, messages) => (broken ? Promise.reject(new Error('broker down')) : inner.publish(topic, messages)),
    };
    const { proxy, get } = await startProxy(store, { requestLogFlushMs: 20 }, bus);
    try {
      for (let i = 0; i < 5; i++) expect((await get('bus.localhost')).status).toBe(200);
      await sleep(60);
      expect(delivered).toHaveLength(0);
      broken = false;
      await sleep(100);
      expect(delivered).toHaveLength(5);
    } finally {
      await proxy.close();
    }
  });
});

describe('api.<root> ingress', () => {
  let upstream: Server;
  let upstreamPort: number;
  const upstreamSockets = new Set<Socket>();
  const seen: { host?: string; forwardedFor?: string; url?: string }[] = [];
  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seen.push({ host: req.headers.host, forwardedFor: req.headers['x-forwarded-for'] as string, url: req.url });
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, body }));
      });
    });
    upstream.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      upstreamSockets.add(socket);
      socket.on('end', () => socket.destroy()); // as a websocket server does when the peer leaves
      socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as AddressInfo).port;
  });
  afterAll(async () => {
    // The proxy closes an upstream websocket when its client goes away.
    await sleep(50);
    expect([...upstreamSockets].filter((s) => !s.destroyed)).toEqual([]);
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('forwards api.<root> requests, any method, to the api-server with X-Forwarded-For', async () => {
    const { proxy, port } = await startProxy(tempStore(), { rootDomain: 'example.test', apiUpstream: `http://127.0.0.1:${upstreamPort}` });
    try {
      const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/project?x=1', method: 'POST', headers: { host: 'api.example.test', 'content-type': 'application/json' } },
          (r) => {
            let text = '';
            r.on('data', (c: Buffer) => (text += c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.end('{"name":"x"}');
      });
      expect(res.status).toBe(201);
      expect(JSON.parse(res.text)).toEqual({ method: 'POST', body: '{"name":"x"}' });
      expect(seen.at(-1)).toMatchObject({ host: 'api.example.test', forwardedFor: '127.0.0.1', url: '/project?x=1' });
      // Other hosts never reach the api-server.
      const before = seen.length;
      expect((await send(port, 'api.other.test', '/project')).status).toBe(404);
      expect(seen.length).toBe(before);
    } finally {
      await proxy.close();
    }
  });

  it('appends the real client address to a client-written X-Forwarded-For: the last entry is the one the api-server believes', async () => {
    const { proxy, port } = await startProxy(tempStore(), { rootDomain: 'example.test', apiUpstream: `http://127.0.0.1:${upstreamPort}` });
    try {
      await send(port, 'api.example.test', '/project', { 'x-forwarded-for': '203.0.113.9' });
      expect(seen.at(-1)?.forwardedFor).toBe('203.0.113.9,127.0.0.1');
    } finally {
      await proxy.close();
    }
  });

  it('passes websocket upgrades through to the api-server', async () => {
    const { proxy, port } = await startProxy(tempStore(), { rootDomain: 'example.test', apiUpstream: `http://127.0.0.1:${upstreamPort}` });
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port,
          path: '/socket.io/?EIO=4&transport=websocket',
          headers: { host: 'api.example.test', connection: 'Upgrade', upgrade: 'websocket' },
        });
        req.on('upgrade', (_res, socket) => {
          socket.once('data', (d: Buffer) => {
            resolve(d.toString());
            socket.destroy();
          });
          socket.write('hello');
        });
        req.on('response', (r) => reject(new Error(`no upgrade: ${r.statusCode}`)));
        req.on('error', reject);
        req.end();
      });
      expect(echoed).toBe('echo:hello');
      // An upgrade for a site host is refused.
      const refused = await new Promise<string>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'shop.example.test', connection: 'Upgrade', upgrade: 'websocket' } });
        req.on('response', (r) => resolve(String(r.statusCode)));
        req.on('upgrade', () => resolve('upgraded'));
        req.on('error', () => resolve('closed'));
        req.end();
      });
      expect(refused).toBe('404');
    } finally {
      await proxy.close();
    }
  });

  it('answers 502 with a JSON error when the api-server is down', async () => {
    const { proxy, port } = await startProxy(tempStore(), { rootDomain: 'example.test', apiUpstream: 'http://127.0.0.1:1' });
    try {
      const res = await send(port, 'api.example.test', '/projects');
      expect(res.status).toBe(502);
      expect(JSON.parse(res.text).error.code).toBe('bad_gateway');
    } finally {
      await proxy.close();
    }
  });
});
