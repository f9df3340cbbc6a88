import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contentManifestEntry, manifestKey, manifestSchema, type Manifest, type ManifestFile, type RoutingConfig } from '@platform/contracts';
import { ContentStore, MIN_COMPRESS_BYTES, type ObjectStore } from '@platform/object-store';
import { contentTypeFor, isCompressible } from './content-types.ts';
import { ByteBudget, MAX_BYTES_IN_FLIGHT, withRetries, type OutputFile, type RetryPolicy, type UploadLimits, type UploadStats } from './upload.ts';

/**
 * The content-addressed upload (manifest version 2): one listing of the project's content
 * namespace, then each file read and hashed; only content that is not stored yet is
 * compressed and written (write-once), and the manifest (path → sha256) is written last.
 * Nothing is removed on a failure: content is shared with other deployments, and content no
 * manifest names is left to the garbage collector.
 */
export async function uploadContentAddressed(
  options: {
    store: ObjectStore;
    deploymentId: string;
    projectId: string;
    dir: string;
    limits: UploadLimits;
    retry: RetryPolicy;
    routing?: RoutingConfig;
    compress?: boolean;
    /** An earlier READY deployment of the project: its manifest says which contents are stored. */
    reuseContentOf?: string;
    onProgress?: (done: number, total: number) => void;
  },
  files: readonly OutputFile[],
  totalBytes: number,
): Promise<{ manifest: Manifest; stats: UploadStats }> {
  const stats: UploadStats = {
    files: files.length,
    bytes: totalBytes,
    objects: 0,
    brotliVariants: 0,
    gzipVariants: 0,
    retries: 0,
    newContents: 0,
    reusedContents: 0,
  };
  const retrying = (key: string, body: Buffer) =>
    withRetries(
      () => options.store.put(key, body, { ifAbsent: true }),
      options.retry,
      () => stats.retries++,
    ).then(() => {
      stats.objects++;
    });
  const contents = await knownContents(new ContentStore(options.store, options.projectId, retrying), options.store, options.reuseContentOf);
  const entries: Record<string, ManifestFile> = {};
  const budget = new ByteBudget(MAX_BYTES_IN_FLIGHT);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      await budget.acquire(file.size);
      try {
        const body = await readFile(join(options.dir, ...file.path.split('/')));
        const contentType = contentTypeFor(file.path);
        const compress = (options.compress ?? true) && body.length >= MIN_COMPRESS_BYTES && isCompressible(contentType);
        const stored = await contents.save(body, compress);
        if (stored.written) {
          stats.newContents!++;
          if (stored.variants.br) stats.brotliVariants++;
          if (stored.variants.gzip) stats.gzipVariants++;
        } else stats.reusedContents!++;
        entries[file.path] = contentManifestEntry(file.path, stored);
      } finally {
        budget.release(file.size);
      }
      options.onProgress?.(++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.limits.concurrency, files.length)) }, worker));
  const manifest = await writeManifest(options, entries);
  stats.objects++;
  return { manifest, stats };
}

/** The version 2 manifest, entries sorted by path, written last (with retries): the deployment is complete. */
async function writeManifest(
  options: { store: ObjectStore; deploymentId: string; projectId: string; retry: RetryPolicy; routing?: RoutingConfig },
  entries: Record<string, ManifestFile>,
): Promise<Manifest> {
  const manifest: Manifest = {
    version: 2,
    deploymentId: options.deploymentId,
    projectId: options.projectId,
    createdAt: new Date().toISOString(),
    files: Object.fromEntries(
      Object.keys(entries)
        .sort()
        .map((k) => [k, entries[k]!]),
    ),
    ...(options.routing ? { routing: options.routing } : {}),
  };
  await withRetries(
    () => options.store.put(manifestKey(options.deploymentId), JSON.stringify(manifest), { contentType: 'application/json', cacheControl: 'no-store' }),
    options.retry,
  );
  return manifest;
}

/**
 * What the project has stored: from the earlier deployment's manifest when there is a usable
 * one (one read), else from a listing of the namespace. A manifest that lies (names content
 * that is not there) costs its own project a 502 for those files, never another's bytes: the
 * proxy checks every content against its hash.
 */
async function knownContents(contents: ContentStore, store: ObjectStore, reuseContentOf: string | undefined): Promise<ContentStore> {
  if (reuseContentOf !== undefined) {
    const raw = await store.getBuffer(manifestKey(reuseContentOf)).catch(() => null);
    const parsed = raw ? manifestSchema.safeParse(parseJsonOrNull(raw)) : null;
    if (parsed?.success && contents.loadFromManifest(parsed.data)) return contents;
  }
  // Credentials that may not list (or a failing listing) cost the speed-up, not the build:
  // with nothing known, every content is written, and write-once keeps what was there.
  return contents.load().catch(() => contents);
}

function parseJsonOrNull(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
}
