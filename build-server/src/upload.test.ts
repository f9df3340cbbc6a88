import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestKey, manifestSchema } from '@platform/contracts';
import { createLocalObjectStore, type ObjectStore } from '@platform/object-store';
import { removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { IMMUTABLE, REVALIDATE } from './content-types.ts';
import { OutputTooLargeError, uploadOutput, withRetries } from './upload.ts';

afterAll(removeTempDirs);

const limits = { maxFiles: 100, maxTotalBytes: 10 * 1024 ** 2, concurrency: 4 };
const noDelay = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

function site(): string {
  const dir = tempDir('out');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><h1>home</h1>${'<p>lorem ipsum dolor sit amet</p>'.repeat(100)}`);
  writeFileSync(join(dir, 'tiny.txt'), 'small');
  writeFileSync(join(dir, 'assets', 'app-3f9a1c2b.js'), 'export const x = 1;\n'.repeat(500));
  writeFileSync(join(dir, 'assets', 'photo.png'), Buffer.alloc(5000, 7));
  return dir;
}

/** Records every put, in order, and lets a test fail some. */
function recordingStore(inner: ObjectStore, failKey?: (key: string, attempt: number) => boolean) {
  const puts: string[] = [];
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const store: ObjectStore = {
    ...inner,
    async put(key, body, options) {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 2));
        if (failKey?.(key, n)) throw new Error(`injected failure for ${key}`);
        await inner.put(key, body, options);
        puts.push(key);
      } finally {
        inFlight--;
      }
    },
  };
  return { store, puts, attempts, maxInFlight: () => maxInFlight };
}

describe('uploadOutput', () => {
  it('uploads every file with its type and cache policy, precompressed variants when smaller, and the manifest last', async () => {
    const root = tempDir('store');
    const rec = recordingStore(createLocalObjectStore({ rootDir: root }));
    const routing = { cleanUrls: true, redirects: [], rewrites: [], headers: [] };
    const { manifest, stats } = await uploadOutput({ store: rec.store, deploymentId: 'dep1', dir: site(), limits, routing });

    expect(rec.puts.at(-1)).toBe(manifestKey('dep1'));
    const stored = manifestSchema.parse(JSON.parse((await rec.store.getBuffer(manifestKey('dep1')))!.toString()));
    expect(stored).toEqual(manifest);
    expect(stored.routing).toEqual(routing);
    expect(Object.keys(stored.files)).toEqual(['assets/app-3f9a1c2b.js', 'assets/photo.png', 'index.html', 'tiny.txt']);

    const js = stored.files['assets/app-3f9a1c2b.js']!;
    expect(js).toMatchObject({ contentType: 'text/javascript; charset=utf-8', cacheControl: IMMUTABLE, size: 10_000 });
    expect(js.encodings?.br?.path).toBe('assets/app-3f9a1c2b.js.br');
    expect(js.encodings?.gzip?.path).toBe('assets/app-3f9a1c2b.js.gz');
    const original = await rec.store.getBuffer('deployments/dep1/assets/app-3f9a1c2b.js');
    expect(brotliDecompressSync((await rec.store.getBuffer('deployments/dep1/assets/app-3f9a1c2b.js.br'))!)).toEqual(original);
    expect(gunzipSync((await rec.store.getBuffer('deployments/dep1/assets/app-3f9a1c2b.js.gz'))!)).toEqual(original);
    expect(js.encodings!.br!.size).toBeLessThan(js.encodings!.gzip!.size);

    expect(stored.files['index.html']).toMatchObject({ contentType: 'text/html; charset=utf-8', cacheControl: REVALIDATE });
    expect(stored.files['index.html']!.encodings?.br).toBeDefined();
    // Too small to be worth it, and an already-compressed type: no variants.
    expect(stored.files['tiny.txt']!.encodings).toBeUndefined();
    expect(stored.files['assets/photo.png']).toMatchObject({ contentType: 'image/png' });
    expect(stored.files['assets/photo.png']!.encodings).toBeUndefined();
    expect(stats).toMatchObject({ files: 4, brotliVariants: 2, gzipVariants: 2, objects: 9, retries: 0 });
  });

  it('keeps no variant that is not smaller, and never overwrites a file the build made', async () => {
    const dir = tempDir('out');
    // Random bytes do not compress: the framing makes both variants larger.
    writeFileSync(join(dir, 'random.txt'), randomBytes(4000));
    writeFileSync(join(dir, 'page.html'), '<p>repeat</p>'.repeat(200));
    writeFileSync(join(dir, 'page.html.gz'), 'the build shipped its own');
    const store = createLocalObjectStore({ rootDir: tempDir('store') });
    const { manifest } = await uploadOutput({ store, deploymentId: 'dep2', dir, limits });
    expect(manifest.files['random.txt']!.encodings).toBeUndefined();
    expect(await store.getBuffer('deployments/dep2/random.txt.gz')).toBeNull();
    expect(manifest.files['page.html']!.encodings).toEqual({ br: expect.objectContaining({ path: 'page.html.br' }) });
    expect((await store.getBuffer('deployments/dep2/page.html.gz'))!.toString()).toBe('the build shipped its own');
  });

  it('retries failed puts with backoff and reports how many', async () => {
    const rec = recordingStore(createLocalObjectStore({ rootDir: tempDir('store') }), (key, attempt) => key.endsWith('index.html') && attempt < 3);
    const { stats } = await uploadOutput({ store: rec.store, deploymentId: 'dep3', dir: site(), limits, retry: noDelay });
    expect(rec.attempts.get('deployments/dep3/index.html')).toBe(3);
    expect(stats.retries).toBe(2);
  });

  it('fails after the last attempt without writing a manifest', async () => {
    const rec = recordingStore(createLocalObjectStore({ rootDir: tempDir('store') }), (key) => key.endsWith('tiny.txt'));
    await expect(uploadOutput({ store: rec.store, deploymentId: 'dep4', dir: site(), limits, retry: noDelay })).rejects.toThrow('injected failure');
    expect(rec.attempts.get('deployments/dep4/tiny.txt')).toBe(4);
    expect(rec.puts).not.toContain(manifestKey('dep4'));
    // What was uploaded before the failure is removed again.
    expect(rec.puts.length).toBeGreaterThan(0);
    expect(await rec.store.list('deployments/dep4/')).toEqual([]);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const dir = tempDir('many');
    for (let i = 0; i < 60; i++) writeFileSync(join(dir, `f${i}.txt`), `file ${i}`);
    const rec = recordingStore(createLocalObjectStore({ rootDir: tempDir('store') }));
    await uploadOutput({ store: rec.store, deploymentId: 'dep5', dir, limits: { ...limits, concurrency: 5 } });
    expect(rec.maxInFlight()).toBe(5);
    expect(rec.puts).toHaveLength(61);
  });

  it('refuses an oversized output before uploading anything', async () => {
    const rec = recordingStore(createLocalObjectStore({ rootDir: tempDir('store') }));
    await expect(uploadOutput({ store: rec.store, deploymentId: 'dep6', dir: site(), limits: { ...limits, maxTotalBytes: 1000 } })).rejects.toThrow(
      new OutputTooLargeError('output is 17.9 KB, more than the limit of 1000 B'),
    );
    await expect(uploadOutput({ store: rec.store, deploymentId: 'dep6', dir: site(), limits: { ...limits, maxFiles: 3 } })).rejects.toThrow(
      'output has 4 files, more than the limit of 3',
    );
    expect(rec.puts).toEqual([]);
  });

  it('skips symlinks, .git and a file posing as the manifest, saying so', async () => {
    const dir = site();
    symlinkSync('/etc/passwd', join(dir, 'passwd'));
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'config'), '[core]');
    writeFileSync(join(dir, '_manifest.json'), '{}');
    const skipped: string[] = [];
    const { manifest } = await uploadOutput({
      store: createLocalObjectStore({ rootDir: tempDir('store') }),
      deploymentId: 'dep7',
      dir,
      limits,
      onSkip: (path) => skipped.push(path),
    });
    expect(skipped.sort()).toEqual(['.git', '_manifest.json', 'passwd']);
    expect(Object.keys(manifest.files)).not.toContain('passwd');
  });
});

describe('withRetries', () => {
  it('returns the first success and gives up after the last attempt', async () => {
    let calls = 0;
    expect(await withRetries(async () => (++calls < 3 ? Promise.reject(new Error('x')) : 'ok'), noDelay)).toBe('ok');
    expect(calls).toBe(3);
    await expect(withRetries(async () => Promise.reject(new Error('always')), noDelay)).rejects.toThrow('always');
  });
});
