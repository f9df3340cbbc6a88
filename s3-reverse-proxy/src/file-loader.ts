import type { Readable } from 'node:stream';
import type { ObjectStore } from '@platform/object-store';
import { ContentIntegrityError, holdsContent, streamHoldsContent, verifyingStream } from './content-verify.ts';
import type { FileCache } from './file-cache.ts';
import type { Representation } from './site.ts';
import { withTimeout } from './storage-timeout.ts';

/** A file the manifest lists is not in storage: the deployment is damaged, not the request. */
export class MissingObjectError extends Error {
  constructor(readonly key: string) {
    super(`${key} is listed in the manifest but missing from storage`);
    this.name = 'MissingObjectError';
  }
}

/** Storage holds other bytes than the manifest describes: sending them would break Content-Length. */
export class SizeMismatchError extends Error {
  constructor(key: string, expected: number, actual: number) {
    super(`${key} holds ${actual} bytes but the manifest says ${expected}`);
    this.name = 'SizeMismatchError';
  }
}

/**
 * Reads deployment files from storage for the answers the file cache could not give, each read
 * bounded by the storage timeout. Either way fails with an error (missing, wrong size, timeout,
 * storage down) rather than null, so the caller has one failure branch.
 */
export class FileLoader {
  /** Concurrent misses of one file share one storage read. */
  private readonly loading = new Map<string, Promise<Buffer>>();
  /** Large content-addressed objects already read whole and found to hold their hash's content: ranges of them need no check. */
  private readonly verified = new Set<string>();

  constructor(
    private readonly store: ObjectStore,
    private readonly cache: FileCache,
    private readonly timeoutMs: number,
  ) {}

  /** A file small enough for the cache, read whole and kept there. */
  buffer(rep: Representation): Promise<Buffer> {
    let pending = this.loading.get(rep.objectKey);
    if (pending === undefined) {
      pending = withTimeout(this.store.getBuffer(rep.objectKey), this.timeoutMs, 'a file')
        .then((buffer) => {
          if (buffer === null) throw new MissingObjectError(rep.objectKey);
          if (buffer.length !== rep.size) throw new SizeMismatchError(rep.objectKey, rep.size, buffer.length);
          return rep.verify ? holdsContent(buffer, rep.verify).then((ok) => (ok ? buffer : Promise.reject(new ContentIntegrityError(rep.objectKey)))) : buffer;
        })
        .then((buffer) => {
          this.cache.set(rep.objectKey, buffer);
          return buffer;
        })
        .finally(() => this.loading.delete(rep.objectKey));
      this.loading.set(rep.objectKey, pending);
    }
    return pending;
  }

  /** A file too big for the cache, streamed; with `range`, only those bytes. */
  async open(rep: Representation, range?: { start: number; end: number }): Promise<Readable> {
    if (rep.verify && range !== undefined && !this.verified.has(rep.objectKey)) await this.verifyWhole(rep);
    const object = await withTimeout(this.store.get(rep.objectKey, range ? { range } : undefined), this.timeoutMs, 'a file');
    if (object === null) throw new MissingObjectError(rep.objectKey);
    // A whole file is checked against the manifest before its headers go out; a range is
    // bounded by its own Content-Range, and the store reports the object's size either way.
    if (range === undefined && object.size !== rep.size) {
      object.body.destroy();
      throw new SizeMismatchError(rep.objectKey, rep.size, object.size);
    }
    if (rep.verify && range === undefined && !this.verified.has(rep.objectKey)) {
      return object.body.pipe(verifyingStream(rep.objectKey, rep.verify, () => this.markVerified(rep.objectKey)));
    }
    return object.body;
  }

  /** Reads a large content object whole once, to check it before any range of it is served. */
  private async verifyWhole(rep: Representation): Promise<void> {
    const whole = await withTimeout(this.store.get(rep.objectKey), this.timeoutMs, 'a file');
    if (whole === null) throw new MissingObjectError(rep.objectKey);
    if (!(await streamHoldsContent(whole.body, rep.objectKey, rep.verify!))) throw new ContentIntegrityError(rep.objectKey);
    this.markVerified(rep.objectKey);
  }

  private markVerified(key: string): void {
    if (this.verified.size >= 10_000) this.verified.clear();
    this.verified.add(key);
  }
}
