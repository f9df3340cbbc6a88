import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip } from 'node:zlib';
import { contentKey, contentPrefix, isSha256Hex, type ContentEncoding } from '@platform/contracts';
import type { ObjectStore } from './object-store.ts';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Files below this size fit in one TCP segment anyway: compressing them saves nothing a user notices. */
export const MIN_COMPRESS_BYTES = 1024;
/** Above this, brotli's slowest setting costs seconds per file; quality 9 is nearly as small and much faster. */
const BROTLI_MAX_QUALITY_BYTES = 1024 * 1024;

export interface ContentVariants {
  br?: { size: number };
  gzip?: { size: number };
}

export interface StoredContent {
  hash: string;
  size: number;
  variants: ContentVariants;
  /** False when the content was already stored: nothing was written or compressed. */
  written: boolean;
}

export const sha256Hex = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

/**
 * One project's content-addressed files (`content/<projectId>/<sha256>`, layout in
 * `@platform/contracts` `content.ts`). `load()` lists the namespace once; `save()` then
 * writes only content that is not there yet, and compresses only that. A file and its
 * variants are written in parallel: a manifest names a variant only when its write (or a
 * listing) showed it stored, so a writer that died between them costs compression, never a
 * missing object.
 */
export class ContentStore {
  private sizes = new Map<string, number>();
  /** Writes in progress by hash: two paths with the same bytes share one write. */
  private readonly pending = new Map<string, Promise<StoredContent>>();

  constructor(
    private readonly store: ObjectStore,
    readonly projectId: string,
    private readonly put: (key: string, body: Buffer) => Promise<void> = (key, body) => store.put(key, body, { ifAbsent: true }),
  ) {}

  /** Lists what the namespace holds (one listing, paged by 1,000 keys on S3). */
  async load(): Promise<this> {
    this.sizes = await this.store.listSizes(contentPrefix(this.projectId));
    return this;
  }

  /**
   * Takes what an earlier manifest of the project names as stored, instead of a listing: one
   * small read instead of a page per 1,000 keys. A manifest of another project or of the old
   * layout names nothing here and is ignored (false).
   */
  loadFromManifest(manifest: {
    version: number;
    projectId?: string | undefined;
    files: Record<string, { hash: string; size: number; encodings?: { br?: { size: number }; gzip?: { size: number } } | undefined }>;
  }): boolean {
    if (manifest.version !== 2 || manifest.projectId !== this.projectId) return false;
    for (const file of Object.values(manifest.files)) {
      if (!isSha256Hex(file.hash)) continue;
      this.sizes.set(contentKey(this.projectId, file.hash), file.size);
      if (file.encodings?.br) this.sizes.set(contentKey(this.projectId, file.hash, 'br'), file.encodings.br.size);
      if (file.encodings?.gzip) this.sizes.set(contentKey(this.projectId, file.hash, 'gzip'), file.encodings.gzip.size);
    }
    return true;
  }

  /** Whether the content with this hash and size is stored already (per the last `load`). */
  has(hash: string, size: number): boolean {
    return this.sizes.get(contentKey(this.projectId, hash)) === size;
  }

  /** The stored content's variants, as the last listing saw them. */
  variantsOf(hash: string): ContentVariants {
    const variants: ContentVariants = {};
    for (const encoding of ['br', 'gzip'] as const) {
      const size = this.sizes.get(contentKey(this.projectId, hash, encoding));
      if (size !== undefined) variants[encoding] = { size };
    }
    return variants;
  }

  /**
   * Stores `body` unless it is there already. `compress` says whether variants are worth
   * making (text types above MIN_COMPRESS_BYTES); `hash` when the caller computed it already.
   */
  save(body: Buffer, compress: boolean, hash: string = sha256Hex(body)): Promise<StoredContent> {
    if (this.has(hash, body.length)) return Promise.resolve({ hash, size: body.length, variants: this.variantsOf(hash), written: false });
    const pending = this.pending.get(hash);
    // A second path with the same bytes waits for the first write and wrote nothing itself.
    if (pending !== undefined) return pending.then((stored) => ({ ...stored, written: false }));
    const writing = this.write(body, compress, hash);
    this.pending.set(hash, writing);
    return writing;
  }

  private async write(body: Buffer, compress: boolean, hash: string): Promise<StoredContent> {
    if (!isSha256Hex(hash)) throw new Error(`not a sha256: ${hash}`);
    const variants: ContentVariants = {};
    const writes: Promise<void>[] = [this.put(contentKey(this.projectId, hash), body)];
    if (compress && body.length >= MIN_COMPRESS_BYTES) {
      const [br, gz] = await compressBoth(body);
      const add = (encoding: Exclude<ContentEncoding, 'identity'>, bytes: Buffer) => {
        if (bytes.length >= body.length) return;
        variants[encoding] = { size: bytes.length };
        writes.push(this.put(contentKey(this.projectId, hash, encoding), bytes));
      };
      add('br', br);
      add('gzip', gz);
    }
    await Promise.all(writes);
    const key = contentKey(this.projectId, hash);
    this.sizes.set(key, body.length);
    for (const encoding of ['br', 'gzip'] as const) {
      const variant = variants[encoding];
      if (variant) this.sizes.set(contentKey(this.projectId, hash, encoding), variant.size);
    }
    return { hash, size: body.length, variants, written: true };
  }
}

/** Brotli (text mode, quality 11, 9 for big files) and gzip -9, in parallel. */
async function compressBoth(body: Buffer): Promise<[Buffer, Buffer]> {
  return Promise.all([
    brotli(body, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: body.length <= BROTLI_MAX_QUALITY_BYTES ? 11 : 9,
        [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
    gzipAsync(body, { level: 9 }),
  ]);
}
