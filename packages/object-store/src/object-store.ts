import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
  /**
   * Write-once: store the body only when no object has this key, and keep an existing one
   * untouched (content-addressed files: the first write wins, a later one cannot replace it).
   */
  ifAbsent?: boolean;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** When the object was last written (ms since the epoch). */
  modifiedMs: number;
}

export interface StoredObject {
  body: Readable;
  /** Size of the whole object, whatever range was asked for. */
  size: number;
}

/**
 * Build output, route records and build caches. Keys are `/`-separated paths such as
 * `deployments/<id>/index.html`. A `put` is atomic: readers see the old object or the new
 * one, never a half-written one.
 */
export interface ObjectStore {
  put(key: string, body: Buffer | string | Readable, options?: PutOptions): Promise<void>;
  /** Null when the key does not exist. */
  get(key: string, options?: { range?: ByteRange }): Promise<StoredObject | null>;
  /** Null when the key does not exist. */
  getBuffer(key: string): Promise<Buffer | null>;
  /** Every key under the prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
  /** Every key under the prefix with its size in bytes (one listing, no read of any object). */
  listSizes(prefix: string): Promise<Map<string, number>>;
  /** Like `list`, with each object's size and when it was last written (storage usage, cache eviction). */
  listDetailed(prefix: string): Promise<ObjectInfo[]>;
  delete(keys: readonly string[]): Promise<void>;
  close?(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** Keys come partly from users (file names in build output); none may climb out of its prefix. */
export function assertValidKey(key: string): void {
  if (
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    key.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new Error(`invalid object key: ${JSON.stringify(key)}`);
  }
}
