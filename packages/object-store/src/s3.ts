import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertValidKey, type ByteRange, type ObjectInfo, type ObjectStore, type PutOptions, type StoredObject } from './object-store.ts';

export interface S3ObjectStoreOptions {
  bucket: string;
  region: string;
  /** Any S3-compatible server (MinIO, moto, R2...); AWS when absent. */
  endpoint?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; most self-hosted servers need it. */
  forcePathStyle?: boolean;
  /** Static keys; when absent the SDK's default chain is used (ECS task role, instance profile...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, retried with exponential backoff and jitter. Default 5. */
  maxAttempts?: number;
  /** Bodies at least this big (and every stream) go through multipart upload. Default 16 MiB. */
  multipartThresholdBytes?: number;
  /** Part size of multipart uploads. Default 8 MiB (S3's minimum is 5 MiB). */
  partSizeBytes?: number;
  /** Parts uploaded at once per object. Default 4. */
  uploadConcurrency?: number;
  /** Open sockets to the endpoint. Default 64. */
  maxSockets?: number;
}

const DELETE_BATCH = 1_000; // DeleteObjects takes at most 1000 keys

/**
 * The production driver: one S3 bucket (kept private: objects are written without ACLs and
 * read back through this client, never by public URL). Single PUTs and multipart uploads
 * are both atomic in S3: a reader sees the old object or the whole new one.
 */
export function createS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  return new S3ObjectStore(options);
}

class S3ObjectStore implements ObjectStore {
  private readonly bucket: string;
  private readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly uploadConcurrency: number;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: options.maxAttempts ?? 5,
      retryMode: 'standard',
      // Checksums only where S3 requires them: many S3-compatible servers reject the newer defaults.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: 5_000,
        httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 64 },
        httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 64 },
      },
    });
    this.multipartThreshold = options.multipartThresholdBytes ?? 16 * 1024 ** 2;
    this.partSize = Math.max(5 * 1024 ** 2, options.partSizeBytes ?? 8 * 1024 ** 2);
    this.uploadConcurrency = options.uploadConcurrency ?? 4;
  }

  async put(key: string, body: Buffer | string | Readable, opts: PutOptions = {}): Promise<void> {
    assertValidKey(key);
    const meta = {
      Bucket: this.bucket,
      Key: key,
      ...(opts.contentType ? { ContentType: opts.contentType } : {}),
      ...(opts.cacheControl ? { CacheControl: opts.cacheControl } : {}),
    };
    if (opts.ifAbsent) return this.putIfAbsent(body, meta);
    if (body instanceof Readable || Buffer.byteLength(body) >= this.multipartThreshold) {
      // Streams of unknown length and big bodies: parts are buffered and retried one by one.
      await new Upload({
        client: this.client,
        params: { ...meta, Body: body },
        partSize: this.partSize,
        queueSize: this.uploadConcurrency,
        leavePartsOnError: false,
      }).done();
      return;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    await this.client.send(new PutObjectCommand({ ...meta, Body: bytes, ContentLength: bytes.length }));
  }

  /**
   * A conditional PUT (`If-None-Match: *`, S3 since 2024, moto, MinIO): refused with 412 when
   * the key exists, so an existing object is never replaced and two writers racing for one key
   * cannot both land. Write-once objects are content files, sent whole in one request (a
   * multipart upload is not conditional on every server). One request, no HEAD before it:
   * a build's first upload sends thousands of them.
   */
  private async putIfAbsent(body: Buffer | string | Readable, meta: { Bucket: string; Key: string }): Promise<void> {
    const bytes = body instanceof Readable ? Buffer.concat(await body.toArray()) : typeof body === 'string' ? Buffer.from(body) : body;
    try {
      await this.client.send(new PutObjectCommand({ ...meta, Body: bytes, ContentLength: bytes.length, IfNoneMatch: '*' }));
    } catch (err) {
      if (statusOf(err) !== 412 && (err as { name?: string }).name !== 'PreconditionFailed') throw err;
    }
  }

  async get(key: string, opts?: { range?: ByteRange }): Promise<StoredObject | null> {
    const range = opts?.range;
    let object: GetObjectCommandOutput | null;
    try {
      object = await this.getObject(key, range);
    } catch (err) {
      if (!range || statusOf(err) !== 416) throw err;
      // A range that starts past the end: nothing to send, but the caller still learns the size.
      const head = await this.headObject(key);
      return head === null ? null : { body: Readable.from([]), size: head };
    }
    if (!object) return null;
    const body = object.Body as Readable | undefined;
    const size = range ? (totalFromContentRange(object.ContentRange) ?? object.ContentLength) : object.ContentLength;
    if (!body || size === undefined) throw new Error(`S3 answered GetObject ${key} without a body or a length`);
    return { body, size };
  }

  async getBuffer(key: string): Promise<Buffer | null> {
    const object = await this.getObject(key);
    if (!object?.Body) return null;
    return Buffer.from(await object.Body.transformToByteArray());
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.listDetailed(prefix)).map((o) => o.key);
  }

  async listDetailed(prefix: string): Promise<ObjectInfo[]> {
    const infos: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1_000, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) infos.push({ key: object.Key, size: object.Size ?? 0, modifiedMs: object.LastModified?.getTime() ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // S3 orders by UTF-8 bytes; sort the same way as every other driver.
    return infos.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listSizes(prefix: string): Promise<Map<string, number>> {
    return new Map((await this.listDetailed(prefix)).map((o) => [o.key, o.size]));
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const chunk = keys.slice(i, i + DELETE_BATCH);
      const result = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }));
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new Error(`S3 could not delete ${failed.length} of ${chunk.length} objects (first: ${first.Key}: ${first.Code} ${first.Message})`);
      }
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async getObject(key: string, range?: ByteRange): Promise<GetObjectCommandOutput | null> {
    assertValidKey(key);
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
    } catch (err) {
      if (isMissingKey(err)) return null;
      throw err;
    }
  }

  /** Size of the object, or null when there is none. */
  private async headObject(key: string): Promise<number | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isMissingKey(err)) return null;
      throw err;
    }
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** A missing key, but not a missing bucket: that is a configuration error and must be loud. */
function isMissingKey(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

/** `bytes 0-9/1234` → 1234 */
function totalFromContentRange(header: string | undefined): number | undefined {
  const match = header ? /\/(\d+)$/.exec(header) : null;
  return match ? Number(match[1]) : undefined;
}
