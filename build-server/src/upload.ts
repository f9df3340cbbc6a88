import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { deploymentPrefix, manifestKey, type Manifest, type ManifestFile, type RoutingConfig } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import { uploadContentAddressed } from './content-upload.ts';
import { cachePolicyFor, contentTypeFor, isCompressible } from './content-types.ts';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export interface UploadLimits {
  maxFiles: number;
  maxTotalBytes: number;
  concurrency: number;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

/** Files below this size fit in one TCP segment anyway: compressing them saves nothing a user notices. */
export const MIN_COMPRESS_BYTES = 1024;
/** Above this, brotli's slowest setting costs seconds per file; quality 9 is nearly as small and much faster. */
const BROTLI_MAX_QUALITY_BYTES = 1024 * 1024;
/** Bytes of file content held in memory at once across all parallel uploads. */
export const MAX_BYTES_IN_FLIGHT = 256 * 1024 * 1024;

export class OutputTooLargeError extends Error {}

export interface OutputFile {
  /** `/`-separated, relative to the output folder. */
  path: string;
  size: number;
}

export interface UploadStats {
  files: number;
  bytes: number;
  /** Content-addressed uploads: contents written now, and those already stored (nothing sent). */
  newContents?: number;
  reusedContents?: number;
  /** Objects written, variants and the manifest included. */
  objects: number;
  brotliVariants: number;
  gzipVariants: number;
  retries: number;
}

/**
 * Every regular file under `dir` with its size. Symlinks are not followed (they could point
 * outside the build) and `.git` folders are left out; both are reported through `onSkip`.
 */
export async function listOutputFiles(dir: string, onSkip?: (path: string, why: string) => void): Promise<OutputFile[]> {
  const out: OutputFile[] = [];
  const walk = async (current: string) => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const full = join(current, entry.name);
      const path = relative(dir, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if (entry.name === '.git') onSkip?.(path, 'git metadata is never published');
        else await walk(full);
      } else if (entry.isFile()) {
        out.push({ path, size: (await lstat(full)).size });
      } else if (entry.isSymbolicLink()) {
        onSkip?.(path, 'symbolic links are not published');
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Uploads the output folder under `deployments/<id>/` with bounded concurrency and retries,
 * adds brotli and gzip variants of text files when they are smaller, then writes
 * `_manifest.json` last: a deployment with a manifest is complete. Limits are checked before
 * the first byte is sent, so an oversized output leaves nothing behind.
 */
export async function uploadOutput(options: {
  store: ObjectStore;
  deploymentId: string;
  dir: string;
  limits: UploadLimits;
  routing?: RoutingConfig;
  retry?: RetryPolicy;
  /** Paths (relative to `dir`) left out of the deployment. */
  exclude?: readonly string[];
  /** Off for benchmarks of the transfer alone. */
  compress?: boolean;
  onSkip?: (path: string, why: string) => void;
  /**
   * Content-addressed (manifest version 2): the files go to `content/<projectId>/<sha256>`,
   * and only content not stored yet is sent and compressed. Absent: version 1, every file
   * under the deployment's own prefix (the layout before content addressing).
   */
  projectId?: string;
  /** Content-addressed: an earlier READY deployment of the project whose manifest says which contents are stored. */
  reuseContentOf?: string;
  /** Told after each file, for a progress display. */
  onProgress?: (done: number, total: number) => void;
}): Promise<{ manifest: Manifest; stats: UploadStats }> {
  const { deploymentId, limits } = options;
  const files = await publishedFiles(options.dir, options.exclude ?? [], options.onSkip);
  const totalBytes = checkLimits(files, limits);
  if (options.projectId !== undefined) {
    return uploadContentAddressed({ ...options, projectId: options.projectId, retry: options.retry ?? DEFAULT_RETRY }, files, totalBytes);
  }
  const writer = new DeploymentWriter({
    store: options.store,
    deploymentId,
    dir: options.dir,
    retry: options.retry ?? DEFAULT_RETRY,
    compress: options.compress ?? true,
    userPaths: new Set(files.map((f) => f.path)),
    stats: { files: files.length, bytes: totalBytes, objects: 0, brotliVariants: 0, gzipVariants: 0, retries: 0 },
  });
  await writer.uploadFiles(files, limits.concurrency);

  const manifest: Manifest = {
    version: 1,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: Object.fromEntries(
      Object.keys(writer.entries)
        .sort()
        .map((k) => [k, writer.entries[k]!]),
    ),
    ...(options.routing ? { routing: options.routing } : {}),
  };
  await writer.put(manifestKey(deploymentId), JSON.stringify(manifest), 'application/json', 'no-store');
  return { manifest, stats: writer.stats };
}

/** The files of the output that become the deployment: neither the excluded ones nor one named like the manifest. */
async function publishedFiles(dir: string, excluded: readonly string[], onSkip?: (path: string, why: string) => void): Promise<OutputFile[]> {
  const exclude = new Set(excluded);
  return (await listOutputFiles(dir, onSkip)).filter((file) => {
    if (exclude.has(file.path)) return false;
    if (file.path === '_manifest.json') {
      onSkip?.(file.path, '_manifest.json is reserved for the platform');
      return false;
    }
    return true;
  });
}

/** Throws OutputTooLargeError before anything is sent; returns the total size. */
function checkLimits(files: readonly OutputFile[], limits: UploadLimits): number {
  if (files.length > limits.maxFiles) {
    throw new OutputTooLargeError(`output has ${files.length} files, more than the limit of ${limits.maxFiles}`);
  }
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  if (totalBytes > limits.maxTotalBytes) {
    throw new OutputTooLargeError(`output is ${formatBytes(totalBytes)}, more than the limit of ${formatBytes(limits.maxTotalBytes)}`);
  }
  return totalBytes;
}

/** Writes the objects of one deployment with retries, counting them and keeping their keys in case they must be removed. */
class DeploymentWriter {
  readonly stats: UploadStats;
  /** The manifest entry of every file uploaded so far. */
  readonly entries: Record<string, ManifestFile> = {};
  private readonly written: string[] = [];
  private readonly prefix: string;

  constructor(
    private readonly options: {
      store: ObjectStore;
      deploymentId: string;
      dir: string;
      retry: RetryPolicy;
      compress: boolean;
      /** Every path of the output, so that a variant never takes the name of a user file. */
      userPaths: ReadonlySet<string>;
      stats: UploadStats;
    },
  ) {
    this.stats = options.stats;
    this.prefix = deploymentPrefix(options.deploymentId);
  }

  async put(key: string, body: Buffer | string, contentType: string, cacheControl: string): Promise<void> {
    await withRetries(
      () => this.options.store.put(key, body, { contentType, cacheControl }),
      this.options.retry,
      () => this.stats.retries++,
    );
    this.written.push(key);
    this.stats.objects++;
  }

  /** Uploads every file with `concurrency` workers; on a failure removes what was written and throws it. */
  async uploadFiles(files: readonly OutputFile[], concurrency: number): Promise<void> {
    const budget = new ByteBudget(MAX_BYTES_IN_FLIGHT);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < files.length) {
        const file = files[next++]!;
        await budget.acquire(file.size);
        try {
          await this.uploadFile(file);
        } catch (err) {
          failed = true;
          throw err;
        } finally {
          budget.release(file.size);
        }
      }
    };
    const workers = Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker);
    const results = await Promise.allSettled(workers);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      // No manifest means the deployment is never served; remove what was written so no half
      // deployment stays behind either. Best effort: the store just failed us.
      await this.options.store.delete(this.written).catch(() => {});
      throw failure.reason;
    }
  }

  private async uploadFile(file: OutputFile): Promise<void> {
    const body = await readFile(join(this.options.dir, ...file.path.split('/')));
    const contentType = contentTypeFor(file.path);
    const cacheControl = cachePolicyFor(file.path, contentType);
    const entry: ManifestFile = { size: body.length, hash: createHash('sha256').update(body).digest('hex'), contentType, cacheControl };
    const uploads: Promise<void>[] = [this.put(this.prefix + file.path, body, contentType, cacheControl)];
    if (this.options.compress && body.length >= MIN_COMPRESS_BYTES && isCompressible(contentType)) {
      const encodings = await this.uploadVariants(file.path, body, contentType, cacheControl, uploads);
      if (encodings.br || encodings.gzip) entry.encodings = encodings;
    }
    await Promise.all(uploads);
    this.entries[file.path] = entry;
  }

  /** Starts the upload of the brotli and gzip variants smaller than `body` (pushed on `uploads`); returns them. */
  private async uploadVariants(
    path: string,
    body: Buffer,
    contentType: string,
    cacheControl: string,
    uploads: Promise<void>[],
  ): Promise<NonNullable<ManifestFile['encodings']>> {
    const [br, gz] = await Promise.all([
      brotli(body, {
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: body.length <= BROTLI_MAX_QUALITY_BYTES ? 11 : 9,
          [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
      gzipAsync(body, { level: 9 }),
    ]);
    const encodings: NonNullable<ManifestFile['encodings']> = {};
    // A user file of the same name wins over a variant: never overwrite what the build made.
    if (br.length < body.length && !this.options.userPaths.has(`${path}.br`)) {
      uploads.push(this.put(`${this.prefix}${path}.br`, br, contentType, cacheControl));
      encodings.br = { path: `${path}.br`, size: br.length };
      this.stats.brotliVariants++;
    }
    if (gz.length < body.length && !this.options.userPaths.has(`${path}.gz`)) {
      uploads.push(this.put(`${this.prefix}${path}.gz`, gz, contentType, cacheControl));
      encodings.gzip = { path: `${path}.gz`, size: gz.length };
      this.stats.gzipVariants++;
    }
    return encodings;
  }
}

/** Waits until `size` more bytes fit; a file larger than the whole budget goes alone. */
export class ByteBudget {
  private used = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async acquire(size: number): Promise<void> {
    while (this.used > 0 && this.used + size > this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.used += size;
  }

  release(size: number): void {
    this.used -= size;
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }
}

/** Exponential backoff with full jitter, so parallel workers that failed together do not retry together. */
export async function withRetries<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, onRetry?: (err: unknown) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= policy.attempts) throw err;
      onRetry?.(err);
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(cap / 2 + Math.random() * (cap / 2));
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}
