import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDeploymentFiles } from './deployment-files.ts';
import type { ObjectStore } from './object-store.ts';

export interface ObjectStoreUnderTest {
  store: ObjectStore;
  cleanup?: () => Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream of `size` pseudo-random bytes in uneven chunks, and the SHA-256 of what it yields. */
function bigStream(size: number): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash('sha256');
  let sent = 0;
  let resolveHash!: (h: string) => void;
  const sha256 = new Promise<string>((r) => (resolveHash = r));
  const stream = new Readable({
    read() {
      if (sent >= size) {
        resolveHash(hash.digest('hex'));
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(size - sent, 65_536 + (sent % 7_919)));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256 };
}

/**
 * What code above `ObjectStore` relies on, written once and run against every driver. Each
 * test works under its own fresh prefix, so a shared bucket needs no wiping.
 */
export function describeObjectStoreContract(driver: string, open: () => Promise<ObjectStoreUnderTest>): void {
  describe(`ObjectStore contract: ${driver}`, () => {
    let subject: ObjectStoreUnderTest;
    let store: ObjectStore;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.store.close?.();
      await subject?.cleanup?.();
    });
    const prefix = () => `contract-${randomBytes(6).toString('hex')}/`;

    it('stores buffers, strings and streams, and reads them back whole', async () => {
      const p = prefix();
      const bytes = randomBytes(10_000);
      await store.put(`${p}buffer.bin`, bytes);
      await store.put(`${p}text.html`, '<h1>héllo ✓</h1>', { contentType: 'text/html; charset=utf-8' });
      await store.put(`${p}stream.txt`, Readable.from([Buffer.from('one '), Buffer.from('two')]));

      expect(await store.getBuffer(`${p}buffer.bin`)).toEqual(bytes);
      expect((await store.getBuffer(`${p}text.html`))?.toString('utf8')).toBe('<h1>héllo ✓</h1>');
      const streamed = await store.get(`${p}stream.txt`);
      expect(streamed?.size).toBe(7);
      expect((await readAll(streamed!.body)).toString()).toBe('one two');
    });

    it('stores an empty object', async () => {
      const key = `${prefix()}empty`;
      await store.put(key, Buffer.alloc(0));
      expect(await store.getBuffer(key)).toEqual(Buffer.alloc(0));
      const object = await store.get(key);
      expect(object?.size).toBe(0);
      expect((await readAll(object!.body)).length).toBe(0);
    });

    it('answers null for a key that does not exist', async () => {
      const p = prefix();
      expect(await store.get(`${p}missing.html`)).toBeNull();
      expect(await store.get(`${p}missing.html`, { range: { start: 0, end: 9 } })).toBeNull();
      expect(await store.getBuffer(`${p}missing.html`)).toBeNull();
    });

    it('replaces an object on a second put', async () => {
      const key = `${prefix()}routes/site.localhost.json`;
      await store.put(key, JSON.stringify({ deploymentId: 'old-and-longer' }));
      await store.put(key, JSON.stringify({ deploymentId: 'new' }));
      expect(JSON.parse((await store.getBuffer(key))!.toString())).toEqual({ deploymentId: 'new' });
    });

    it('keeps the first write of a write-once key: a later put with ifAbsent changes nothing', async () => {
      const key = `${prefix()}content/abc`;
      await store.put(key, 'the original bytes', { ifAbsent: true });
      await store.put(key, 'hostile replacement', { ifAbsent: true });
      await store.put(key, Readable.from([Buffer.from('streamed replacement')]), { ifAbsent: true });
      expect((await store.getBuffer(key))?.toString()).toBe('the original bytes');
      expect(await store.list(key)).toEqual([key]);
    });

    it('lists the keys under a prefix with their sizes', async () => {
      const p = prefix();
      await store.put(`${p}a`, Buffer.alloc(3));
      await store.put(`${p}b/c`, Buffer.alloc(0));
      await store.put(`${p}b/d`, 'héllo');
      expect(Object.fromEntries(await store.listSizes(p))).toEqual({ [`${p}a`]: 3, [`${p}b/c`]: 0, [`${p}b/d`]: 6 });
      expect((await store.listSizes(`${p}zz`)).size).toBe(0);
    });

    it('streams a byte range, reporting the size of the whole object', async () => {
      const key = `${prefix()}video.bin`;
      const bytes = randomBytes(1_000);
      await store.put(key, bytes);

      const middle = await store.get(key, { range: { start: 100, end: 199 } });
      expect(middle?.size).toBe(1_000);
      expect(await readAll(middle!.body)).toEqual(bytes.subarray(100, 200));

      // An end past the object is cut at its last byte, as HTTP ranges are.
      const tail = await store.get(key, { range: { start: 990, end: 5_000 } });
      expect(tail?.size).toBe(1_000);
      expect(await readAll(tail!.body)).toEqual(bytes.subarray(990));

      // A start past the end yields no bytes, but still the size (for a 416 answer).
      const beyond = await store.get(key, { range: { start: 2_000, end: 2_100 } });
      expect(beyond?.size).toBe(1_000);
      expect((await readAll(beyond!.body)).length).toBe(0);
    });

    it('uploads a large stream of unknown length in one piece (multipart where the driver has it)', async () => {
      const key = `${prefix()}cache.tar`;
      const size = 21 * 1024 * 1024 + 123;
      const { stream, sha256 } = bigStream(size);
      await store.put(key, stream);
      const back = await store.get(key);
      expect(back?.size).toBe(size);
      const got = createHash('sha256');
      for await (const chunk of back!.body) got.update(chunk as Uint8Array);
      expect(got.digest('hex')).toBe(await sha256);
    });

    it('leaves no object behind when the body stream fails midway', async () => {
      const key = `${prefix()}broken.tar`;
      let sent = 0;
      const failing = new Readable({
        read() {
          if (sent >= 12 * 1024 * 1024) {
            this.destroy(new Error('source went away'));
            return;
          }
          sent += 1024 * 1024;
          this.push(randomBytes(1024 * 1024));
        },
      });
      await expect(store.put(key, failing)).rejects.toThrow();
      expect(await store.get(key)).toBeNull();
      expect(await store.list(key)).toEqual([]);
    });

    it('lists every key under a prefix in lexicographic order, including prefixes that end mid-name', async () => {
      const p = prefix();
      const keys = [`${p}b/z.txt`, `${p}a/2.txt`, `${p}ab`, `${p}a/1.txt`, `${p}a/deep/er/x.js`, `${p}c`];
      await Promise.all(keys.map((k) => store.put(k, k)));
      expect(await store.list(p)).toEqual([...keys].sort());
      expect(await store.list(`${p}a/`)).toEqual([`${p}a/1.txt`, `${p}a/2.txt`, `${p}a/deep/er/x.js`]);
      expect(await store.list(`${p}a`)).toEqual([`${p}a/1.txt`, `${p}a/2.txt`, `${p}a/deep/er/x.js`, `${p}ab`]);
      expect(await store.list(`${p}nothing/`)).toEqual([]);
    });

    it('lists and deletes more keys than one request of the server carries', async () => {
      const p = prefix();
      const keys = Array.from({ length: 1_234 }, (_, i) => `${p}f/${String(i).padStart(5, '0')}.txt`);
      for (let i = 0; i < keys.length; i += 64) await Promise.all(keys.slice(i, i + 64).map((k) => store.put(k, 'x')));
      const listed = await store.list(p);
      expect(listed).toHaveLength(keys.length);
      expect(listed).toEqual(keys);

      await store.delete([...listed, `${p}never-existed`]);
      expect(await store.list(p)).toEqual([]);
    });

    it('lists keys with their sizes and write times', async () => {
      const p = prefix();
      const before = Date.now() - 5_000;
      await store.put(`${p}a`, 'four');
      await store.put(`${p}b/c`, Buffer.alloc(1_000));
      const listed = await store.listDetailed(p);
      expect(listed.map((o) => [o.key, o.size])).toEqual([
        [`${p}a`, 4],
        [`${p}b/c`, 1_000],
      ]);
      for (const o of listed) expect(o.modifiedMs).toBeGreaterThan(before);
      expect(await store.listDetailed(`${p}none/`)).toEqual([]);
    });

    it('removes one deployment’s files and nothing of its neighbours', async () => {
      const p = prefix().slice(0, -1);
      const [mine, neighbour] = [`dpl_${p}a`, `dpl_${p}ab`];
      await Promise.all([
        store.put(`deployments/${mine}/index.html`, 'x'),
        store.put(`deployments/${mine}/_manifest.json`, '{}'),
        store.put(`deployments/${neighbour}/index.html`, 'y'),
      ]);
      expect(await removeDeploymentFiles(store, mine)).toBe(2);
      expect(await store.list(`deployments/${mine}/`)).toEqual([]);
      expect(await store.list(`deployments/${neighbour}/`)).toEqual([`deployments/${neighbour}/index.html`]);
      expect(await removeDeploymentFiles(store, mine)).toBe(0);
      await removeDeploymentFiles(store, neighbour);
    });

    it('deletes only the keys it is given', async () => {
      const p = prefix();
      await Promise.all(['keep', 'drop1', 'drop2'].map((n) => store.put(`${p}${n}`, n)));
      await store.delete([`${p}drop1`, `${p}drop2`]);
      await store.delete([]);
      expect(await store.list(p)).toEqual([`${p}keep`]);
      expect(await store.getBuffer(`${p}drop1`)).toBeNull();
    });

    it('refuses keys that could climb out of their prefix', async () => {
      for (const key of ['../etc/passwd', '/abs', 'a//b', 'a/./b', 'a/../../b', '', 'a\\b', 'nul\0byte']) {
        await expect(store.put(key, 'x'), key).rejects.toThrow(/invalid object key/);
        await expect(store.get(key), key).rejects.toThrow(/invalid object key/);
      }
    });
  });
}
