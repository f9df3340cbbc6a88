/**
 * `npm run bench:upload`: uploads 2,000 small files of a typical build output to an
 * S3-compatible endpoint twice in the same run: one PutObject after another (the baseline),
 * then with the build-server's uploader (bounded concurrency, retries, precompressed
 * variants, manifest last). Prints both and the ratio; the last line sums it up.
 *
 * Settings (environment): S3_ENDPOINT (default http://127.0.0.1:4566, moto), S3_BUCKET
 * (default platform-test, created when missing), AWS_REGION (us-east-1),
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (test/test), BENCH_FILES (2000),
 * BENCH_CONCURRENCY (32), BENCH_RTT_MS (20).
 *
 * Two rounds. On loopback, a request costs only the server's CPU: moto (one Python process)
 * and this process share the machine's two cores, so the ratio measures moto's throughput
 * more than the uploader. Real object storage is a network round trip away (S3 from a task in
 * the same region: tens of milliseconds per PUT), which is what concurrency hides; the second
 * round models it with a TCP relay that delays each direction by half of BENCH_RTT_MS.
 *
 * Then the content-addressed uploader builds use now (same run, same endpoint): a project's
 * first upload, a redeploy of the same files, and a redeploy with one file changed, each
 * against the per-deployment upload with variants ("today's full upload"). The redeploys
 * list the project's content once and send only what is new.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStore } from '@platform/object-store';
import { listOutputFiles, uploadOutput } from '../build-server/src/upload.ts';
import { contentTypeFor, cachePolicyFor } from '../build-server/src/content-types.ts';

// `npm run infra:up` writes the test servers' settings to .infra/env; the environment wins.
const infraEnvFile = new URL('../.infra/env', import.meta.url);
if (existsSync(infraEnvFile)) {
  for (const line of readFileSync(infraEnvFile, 'utf8').split('\n')) {
    const match = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '');
  }
}
const endpoint = process.env.S3_ENDPOINT || 'http://127.0.0.1:4566';
const bucket = process.env.S3_BUCKET || 'platform-test';
const fileCount = Number(process.env.BENCH_FILES || 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY || 32);
const rttMs = Number(process.env.BENCH_RTT_MS ?? 20);

function s3Client(url: string): S3Client {
  return new S3Client({
    endpoint: url,
    region: process.env.AWS_REGION || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'test' },
    requestHandler: { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }), httpsAgent: new Agent({ keepAlive: true, maxSockets: 64 }) },
  });
}

/** Relays TCP to `target`, delaying every chunk by `delayMs` in each direction: a network round trip of 2 × delayMs. */
async function latencyRelay(target: URL, delayMs: number): Promise<{ url: string; server: Server }> {
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 80) });
    const relay = (from: NodeJS.ReadableStream, to: { write(b: Buffer): unknown; end(): unknown }) => {
      from.on('data', (chunk: Buffer) => setTimeout(() => to.write(chunk), delayMs));
      from.on('end', () => setTimeout(() => to.end(), delayMs));
    };
    relay(client, upstream);
    relay(upstream, client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The ObjectStore interface over one bucket: what the build-server's uploader is given in production. */
function s3ObjectStore(client: S3Client): ObjectStore {
  return {
    async put(key, body, options) {
      await client
        .send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ...(options?.contentType ? { ContentType: options.contentType } : {}),
            ...(options?.cacheControl ? { CacheControl: options.cacheControl } : {}),
            ...(options?.ifAbsent ? { IfNoneMatch: '*' } : {}),
          }),
        )
        .catch((err: { name?: string }) => {
          // Write-once: an existing object is kept, as the platform's S3 driver does.
          if (!(options?.ifAbsent && err.name === 'PreconditionFailed')) throw err;
        });
    },
    async get(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: out.Body as Readable, size: out.ContentLength ?? 0 };
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return null;
        throw err;
      }
    },
    async getBuffer(key) {
      const object = await this.get(key);
      if (!object) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of object.body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    async list(prefix) {
      return [...(await this.listSizes(prefix)).keys()].sort();
    },
    async listSizes(prefix) {
      const sizes = new Map<string, number>();
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        for (const o of page.Contents ?? []) if (o.Key) sizes.set(o.Key, o.Size ?? 0);
        token = page.NextContinuationToken;
      } while (token);
      return sizes;
    },
    async listDetailed() {
      throw new Error('the upload bench never measures sizes');
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
      }
    },
  };
}

/** A build output of small files: pages, scripts, styles, data, icons, 0.3 to 4 KB each. */
function makeSite(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-upload-'));
  const kinds: ((i: number) => [string, string | Buffer])[] = [
    (i: number) => [`page-${i}.html`, `<!doctype html><title>Page ${i}</title>${'<p>Some paragraph text of a page.</p>'.repeat(10 + (i % 60))}`],
    (i: number) => [`assets/chunk-${i}.a1b2c3d4.js`, `export const v${i} = ${i};\n`.repeat(20 + (i % 150))],
    (i: number) => [`assets/style-${i}.e5f6a7b8.css`, `.c${i} { color: #${(i * 2654435761).toString(16).slice(0, 6)}; }\n`.repeat(10 + (i % 100))],
    (i: number) => [`data/item-${i}.json`, JSON.stringify({ id: i, tags: Array.from({ length: 5 + (i % 30) }, (_, t) => `tag-${t}`) })],
    (i: number) => [`icons/icon-${i}.svg`, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M${i % 24} 0L24 ${i % 24}"/></svg>`],
    (i: number) => [`img/thumb-${i}.png`, Buffer.alloc(300 + (i % 3000), i % 251)],
  ];
  for (const sub of ['assets', 'data', 'icons', 'img']) mkdirSync(join(dir, sub));
  for (let i = 0; i < count; i++) {
    const [path, content] = kinds[i % kinds.length]!(i);
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function ensureBucket(client: S3Client): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

interface Round {
  seqMs: number;
  plainMs: number;
  fullMs: number;
  /** Content-addressed: a project's first upload, the same files again, then one file changed. */
  firstMs: number;
  unchangedMs: number;
  oneChangedMs: number;
}

async function round(label: string, client: S3Client, dir: string, files: { path: string; size: number }[]): Promise<Round> {
  const store = s3ObjectStore(client);
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  console.log(`-- ${label}`);
  // Baseline: one PutObject after another, same client and connection reuse.
  const seqStarted = performance.now();
  for (const file of files) {
    const body = await readFile(join(dir, file.path));
    const contentType = contentTypeFor(file.path);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `bench/${run}-seq/${file.path}`,
        Body: body,
        ContentType: contentType,
        CacheControl: cachePolicyFor(file.path, contentType),
      }),
    );
  }
  const seqMs = performance.now() - seqStarted;
  console.log(`sequential PutObject:                 ${(seqMs / 1000).toFixed(2)} s (${(files.length / (seqMs / 1000)).toFixed(0)} files/s)`);

  const limits = { maxFiles: 100_000, maxTotalBytes: 1024 ** 3, concurrency };
  const plainStarted = performance.now();
  const plain = await uploadOutput({ store, deploymentId: `bench${run}plain`, dir, limits, compress: false });
  const plainMs = performance.now() - plainStarted;
  console.log(
    `uploader, ${concurrency} parallel, no variants:   ${(plainMs / 1000).toFixed(2)} s (${plain.stats.objects} objects, ${(files.length / (plainMs / 1000)).toFixed(0)} files/s)`,
  );

  const fullStarted = performance.now();
  const full = await uploadOutput({ store, deploymentId: `bench${run}full`, dir, limits });
  const fullMs = performance.now() - fullStarted;
  console.log(
    `uploader as builds use it (br+gzip): ${(fullMs / 1000).toFixed(2)} s (${full.stats.objects} objects: ${full.stats.brotliVariants} br, ${full.stats.gzipVariants} gzip, manifest; ${full.stats.retries} retries)`,
  );
  const stored = await store.list(`deployments/bench${run}full/`);
  if (stored.length !== full.stats.objects) throw new Error(`expected ${full.stats.objects} objects in the bucket, found ${stored.length}`);
  await store.delete([...(await store.list(`bench/${run}-seq/`)), ...(await store.list(`deployments/bench${run}plain/`)), ...stored]);
  console.log(`ratio: ${(seqMs / plainMs).toFixed(1)}x (with variants ${(seqMs / fullMs).toFixed(1)}x)`);
  const redeploys = await contentRounds(store, run, dir, limits);
  return { seqMs, plainMs, fullMs, ...redeploys };
}

/**
 * The content-addressed uploader (what builds use now), in a project namespace of its own:
 * the first upload (every content new, compressed), the same files again (nothing sent but
 * the manifest), then one file changed (one content and its variants).
 */
async function contentRounds(store: ObjectStore, run: string, dir: string, limits: { maxFiles: number; maxTotalBytes: number; concurrency: number }) {
  const projectId = `bench${run}`;
  // As the scheduler hands builds their project's newest READY deployment: its manifest says what is stored.
  const timed = async (label: string, deploymentId: string, reuseContentOf?: string) => {
    const started = performance.now();
    const { stats } = await uploadOutput({ store, deploymentId, projectId, dir, limits, ...(reuseContentOf ? { reuseContentOf } : {}) });
    const ms = performance.now() - started;
    console.log(
      `${label} ${(ms / 1000).toFixed(3)} s (${stats.newContents} new contents, ${stats.reusedContents} already stored, ${stats.objects} objects written)`,
    );
    return { ms, stats };
  };
  const first = await timed('content-addressed, first upload:    ', `bench${run}ca1`);
  const unchanged = await timed('content-addressed, redeploy as is:   ', `bench${run}ca2`, `bench${run}ca1`);
  const changed = join(dir, 'page-0.html');
  const original = readFileSync(changed);
  writeFileSync(changed, `${original.toString()}<p>changed ${run}</p>`);
  const oneChanged = await timed('content-addressed, 1 file changed:   ', `bench${run}ca3`, `bench${run}ca2`).finally(() => writeFileSync(changed, original));
  if (unchanged.stats.newContents !== 0 || oneChanged.stats.newContents !== 1) {
    throw new Error(`expected 0 and 1 new contents on the redeploys, got ${unchanged.stats.newContents} and ${oneChanged.stats.newContents}`);
  }
  const keys = [...(await store.list(`content/${projectId}/`)), ...['ca1', 'ca2', 'ca3'].map((d) => `deployments/bench${run}${d}/_manifest.json`)];
  await store.delete(keys);
  return { firstMs: first.ms, unchangedMs: unchanged.ms, oneChangedMs: oneChanged.ms };
}

async function main(): Promise<void> {
  const direct = s3Client(endpoint);
  try {
    await ensureBucket(direct);
  } catch (err) {
    throw new Error(`no S3-compatible endpoint at ${endpoint} (start one with npm run infra:up, or set S3_ENDPOINT): ${(err as Error).message}`);
  }
  const dir = makeSite(fileCount);
  const relay = await latencyRelay(new URL(endpoint), rttMs / 2);
  const delayed = s3Client(relay.url);
  try {
    const files = await listOutputFiles(dir);
    const bytes = files.reduce((s, f) => s + f.size, 0);
    console.log(`${files.length} files, ${(bytes / 1024).toFixed(0)} KB, endpoint ${endpoint}, bucket ${bucket}`);
    const loopback = await round('loopback (server CPU bound)', direct, dir, files);
    const remote = await round(`${rttMs} ms modeled round trip (object storage over the network)`, delayed, dir, files);
    const r = (x: Round) => `${(x.seqMs / x.plainMs).toFixed(1)}x (with br+gzip variants ${(x.seqMs / x.fullMs).toFixed(1)}x)`;
    // "Today" is the per-deployment uploader with variants (fullMs): what every build did before content addressing.
    const c = (x: Round) =>
      `redeploy with 1 changed ${(x.fullMs / x.oneChangedMs).toFixed(0)}x faster than the full upload (goal >= 50x), unchanged ${(x.fullMs / x.unchangedMs).toFixed(0)}x, first upload ${(x.fullMs / x.firstMs).toFixed(2)}x (goal >= 1)`;
    console.log(`content-addressed at ${rttMs} ms RTT: ${c(remote)}; on loopback: ${c(loopback)}`);
    console.log(
      `bench:upload ${files.length} files, uploader vs sequential PutObject: ${r(remote)} at ${rttMs} ms RTT; ${r(loopback)} on loopback; ${c(remote)} at ${rttMs} ms RTT`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    direct.destroy();
    delayed.destroy();
    relay.server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
