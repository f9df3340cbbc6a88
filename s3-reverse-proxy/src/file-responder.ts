import type { CacheStatus } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import type { Exchange } from './exchange.ts';
import type { FileCache } from './file-cache.ts';
import { ContentIntegrityError } from './content-verify.ts';
import { MissingObjectError, type FileLoader } from './file-loader.ts';
import { encodingPreference, etagMatches, parseRange } from './http-semantics.ts';
import { PAGES, storageFailurePage } from './pages.ts';
import type { FileResponse, Representation } from './site.ts';

type ByteRange = { start: number; end: number };

/**
 * Answers a request that resolved to a file: picks the representation (brotli, gzip or the
 * file itself), answers conditional and range requests, and sends the body from the file
 * cache or from storage.
 *
 * Everything a cached file needs is synchronous (a header array and a buffer); only a cache
 * miss goes async, so a hot file costs no promise. Storage failures become a 502/504 page.
 */
export class FileResponder {
  constructor(
    private readonly cache: FileCache,
    private readonly loader: FileLoader,
    private readonly logger: Logger,
  ) {}

  serve(ex: Exchange, file: FileResponse): void {
    const headers = ex.req.headers;
    const range = file.status === 200 ? headers.range : undefined;
    // A range applies to the identity body; precompressed variants are sent whole.
    const rep = range === undefined ? negotiate(file, headers['accept-encoding']) : file.identity;
    if (file.status === 200) {
      const inm = headers['if-none-match'];
      if (inm !== undefined && etagMatches(inm, rep.etag)) return ex.send(304, rep.headersNotModified, undefined, 'NONE');
      if (range !== undefined) {
        const ifRange = headers['if-range'];
        if (ifRange === undefined || ifRange === rep.etag) return this.serveRange(ex, rep, range);
      }
    }
    this.serveWhole(ex, file.status, rep);
  }

  private serveWhole(ex: Exchange, status: number, rep: Representation): void {
    if (ex.head) return ex.send(status, rep.headersBare, undefined, 'NONE');
    const buffer = this.cache.get(rep.objectKey);
    if (buffer !== undefined) return ex.send(status, rep.headersHit, buffer, 'HIT');
    this.serveMiss(ex, status, rep).catch((err: unknown) => ex.fail(err, this.logger));
  }

  private async serveMiss(ex: Exchange, status: number, rep: Representation): Promise<void> {
    if (this.cache.accepts(rep.size)) {
      const buffer = await this.read(ex, rep, () => this.loader.buffer(rep));
      if (buffer) ex.send(status, rep.headersMiss, buffer, 'MISS');
      return;
    }
    const body = await this.read(ex, rep, () => this.loader.open(rep));
    if (body) await ex.stream(status, rep.headersMiss, body, rep.size, 'MISS');
  }

  private serveRange(ex: Exchange, rep: Representation, header: string): void {
    const range = parseRange(header, rep.size);
    if (range === 'unsatisfiable') {
      return ex.send(416, [...rep.headersBase, 'Content-Range', `bytes */${rep.size}`, 'Content-Length', '0'], undefined, 'NONE');
    }
    // Not a range this proxy serves partially: the whole body, as if no Range had been sent.
    if (range === null) return this.serveWhole(ex, 200, rep);
    const headers = [
      ...rep.headersBase,
      'Content-Range',
      `bytes ${range.start}-${range.end}/${rep.size}`,
      'Content-Length',
      String(range.end - range.start + 1),
    ];
    if (ex.head) return ex.send(206, headers, undefined, 'NONE');
    const cached = this.cache.get(rep.objectKey);
    if (cached !== undefined) return this.sendSlice(ex, headers, cached, range, 'HIT');
    this.serveRangeMiss(ex, rep, headers, range).catch((err: unknown) => ex.fail(err, this.logger));
  }

  private async serveRangeMiss(ex: Exchange, rep: Representation, headers: string[], range: ByteRange): Promise<void> {
    if (this.cache.accepts(rep.size)) {
      const buffer = await this.read(ex, rep, () => this.loader.buffer(rep));
      if (buffer) this.sendSlice(ex, headers, buffer, range, 'MISS');
      return;
    }
    const body = await this.read(ex, rep, () => this.loader.open(rep, range));
    if (body) await ex.stream(206, [...headers, 'X-Cache', 'MISS'], body, range.end - range.start + 1, 'MISS');
  }

  private sendSlice(ex: Exchange, headers: string[], buffer: Buffer, range: ByteRange, cache: CacheStatus): void {
    ex.send(206, [...headers, 'X-Cache', cache], buffer.subarray(range.start, range.end + 1), cache);
  }

  /** A storage read; on failure the exchange is answered (502/504) and null returned. */
  private async read<T>(ex: Exchange, rep: Representation, load: () => Promise<T>): Promise<T | null> {
    try {
      return await load();
    } catch (err) {
      this.storageFailed(ex, rep, err);
      return null;
    }
  }

  private storageFailed(ex: Exchange, rep: Representation, err: unknown): void {
    const deploymentId = ex.route?.deploymentId;
    if (err instanceof MissingObjectError) {
      this.logger.error({ deploymentId, key: rep.objectKey }, 'a file in the manifest is missing from storage');
      return ex.sendPage(PAGES.badGateway);
    }
    if (err instanceof ContentIntegrityError) {
      // Write-once content makes this a store that was written around the platform: loud, never served.
      this.logger.error({ deploymentId, key: rep.objectKey }, 'stored bytes do not match their content hash; not served');
      return ex.sendPage(PAGES.badGateway);
    }
    this.logger.error({ err, deploymentId, key: rep.objectKey }, 'reading a file from storage failed');
    ex.sendPage(storageFailurePage(err));
  }
}

/** The precompressed variant the client prefers (brotli on a tie), else the file itself. */
function negotiate(file: FileResponse, acceptEncoding: string | undefined): Representation {
  if (file.br === null && file.gzip === null) return file.identity;
  const pref = encodingPreference(acceptEncoding);
  const brQ = file.br !== null ? pref.br : 0;
  const gzipQ = file.gzip !== null ? pref.gzip : 0;
  if (brQ > 0 && brQ >= gzipQ) return file.br!;
  if (gzipQ > 0) return file.gzip!;
  return file.identity;
}
