import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { contentKey, manifestKey, manifestSchema } from '@platform/contracts';
import { createLocalObjectStore, sha256Hex, type ObjectStore } from '@platform/object-store';
import { removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { uploadOutput } from './upload.ts';

afterAll(removeTempDirs);

const limits = { maxFiles: 100, maxTotalBytes: 10 * 1024 ** 2, concurrency: 4 };
const PROJECT = 'prj_upload';

function site(): string {
  const dir = tempDir('out');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><h1>home</h1>${'<p>lorem ipsum dolor sit amet</p>'.repeat(100)}`);
  writeFileSync(join(dir, 'copy.html'), `<!doctype html><h1>home</h1>${'<p>lorem ipsum dolor sit amet</p>'.repeat(100)}`);
  writeFileSync(join(dir, 'tiny.txt'), 'small');
  writeFileSync(join(dir, 'assets', 'app-3f9a1c2b.js'), 'export const x = 1;\n'.repeat(500));
  return dir;
}

/** Counts puts by key, and how many ran brotli's input through: the store sees what was sent. */
function countingStore(inner: ObjectStore) {
  const puts: string[] = [];
  const store: ObjectStore = {
    ...inner,
    listSizes: (prefix) => inner.listSizes(prefix),
    async put(key, body, options) {
      puts.push(key);
      await inner.put(key, body, options);
    },
  };
  return { store, puts };
}

describe('content-addressed upload (manifest version 2)', () => {
  it('stores each content once by its sha256 with its variants, and a manifest of path → hash', async () => {
    const rec = countingStore(createLocalObjectStore({ rootDir: tempDir('store') }));
    const dir = site();
    const { manifest, stats } = await uploadOutput({ store: rec.store, deploymentId: 'dep1', projectId: PROJECT, dir, limits });
    const stored = manifestSchema.parse(JSON.parse((await rec.store.getBuffer(manifestKey('dep1')))!.toString()));
    expect(stored).toEqual(manifest);
    expect(stored).toMatchObject({ version: 2, projectId: PROJECT });
    const index = stored.files['index.html']!;
    expect(stored.files['copy.html']!.hash).toBe(index.hash);
    expect(index.encodings).toEqual({
      br: { path: '.br', size: expect.any(Number) },
      gzip: { path: '.gz', size: expect.any(Number) },
    });
    const body = (await rec.store.getBuffer(contentKey(PROJECT, index.hash)))!;
    expect(sha256Hex(body)).toBe(index.hash);
    expect(brotliDecompressSync((await rec.store.getBuffer(contentKey(PROJECT, index.hash, 'br')))!)).toEqual(body);
    expect(gunzipSync((await rec.store.getBuffer(contentKey(PROJECT, index.hash, 'gzip')))!)).toEqual(body);
    // Two paths, one content: written once. Nothing under the deployment's prefix but the manifest.
    expect(rec.puts.filter((k) => k === contentKey(PROJECT, index.hash))).toHaveLength(1);
    expect(await rec.store.list('deployments/dep1/')).toEqual([manifestKey('dep1')]);
    expect(stats).toMatchObject({ files: 4, newContents: 3, reusedContents: 1 });
    expect(rec.puts.at(-1)).toBe(manifestKey('dep1'));
  });

  it('a redeploy sends only the manifest; one changed file sends that content (and its variants) alone', async () => {
    const rec = countingStore(createLocalObjectStore({ rootDir: tempDir('store') }));
    const dir = site();
    await uploadOutput({ store: rec.store, deploymentId: 'dep1', projectId: PROJECT, dir, limits });
    rec.puts.length = 0;
    const again = await uploadOutput({ store: rec.store, deploymentId: 'dep2', projectId: PROJECT, dir, limits });
    expect(rec.puts).toEqual([manifestKey('dep2')]);
    expect(again.stats).toMatchObject({ newContents: 0, reusedContents: 4, brotliVariants: 0, gzipVariants: 0 });
    // The reused entries still name their variants, taken from the listing.
    expect(again.manifest.files['index.html']!.encodings?.br).toBeDefined();

    writeFileSync(join(dir, 'assets', 'app-3f9a1c2b.js'), 'export const x = 2;\n'.repeat(500));
    rec.puts.length = 0;
    const changed = await uploadOutput({ store: rec.store, deploymentId: 'dep3', projectId: PROJECT, dir, limits });
    const hash = changed.manifest.files['assets/app-3f9a1c2b.js']!.hash;
    expect(rec.puts.sort()).toEqual(
      [contentKey(PROJECT, hash), contentKey(PROJECT, hash, 'br'), contentKey(PROJECT, hash, 'gzip'), manifestKey('dep3')].sort(),
    );
    expect(changed.stats).toMatchObject({ newContents: 1, reusedContents: 3, brotliVariants: 1, gzipVariants: 1 });
  });

  it('with an earlier deployment of the project named, reads its manifest instead of listing the namespace', async () => {
    const inner = createLocalObjectStore({ rootDir: tempDir('store') });
    const rec = countingStore(inner);
    let listings = 0;
    rec.store.listSizes = (prefix) => {
      listings++;
      return inner.listSizes(prefix);
    };
    const dir = site();
    await uploadOutput({ store: rec.store, deploymentId: 'dep1', projectId: PROJECT, dir, limits });
    expect(listings).toBe(1);
    rec.puts.length = 0;
    const again = await uploadOutput({ store: rec.store, deploymentId: 'dep2', projectId: PROJECT, reuseContentOf: 'dep1', dir, limits });
    expect(listings).toBe(1);
    expect(rec.puts).toEqual([manifestKey('dep2')]);
    expect(again.manifest.files['index.html']!.encodings?.gzip).toBeDefined();
    // A manifest of another project names nothing of this one: back to a listing.
    await uploadOutput({ store: rec.store, deploymentId: 'dep3', projectId: 'prj_other', reuseContentOf: 'dep1', dir, limits });
    expect(listings).toBe(2);
  });

  it('another project does not reuse (or see) this project content', async () => {
    const rec = countingStore(createLocalObjectStore({ rootDir: tempDir('store') }));
    const dir = site();
    await uploadOutput({ store: rec.store, deploymentId: 'dep1', projectId: PROJECT, dir, limits });
    const other = await uploadOutput({ store: rec.store, deploymentId: 'dep9', projectId: 'prj_other', dir, limits });
    expect(other.stats.newContents).toBe(3);
    expect(rec.puts.filter((k) => k.startsWith('content/prj_other/')).length).toBeGreaterThanOrEqual(3);
  });
});
