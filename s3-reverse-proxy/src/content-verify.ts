import { createHash } from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { brotliDecompress, createBrotliDecompress, createGunzip, gunzip } from 'node:zlib';
import type { Encoding } from './site.ts';

const decompress = { br: promisify(brotliDecompress), gzip: promisify(gunzip) };

/** Stored bytes are not the content their key names: someone wrote other bytes under that hash. */
export class ContentIntegrityError extends Error {
  constructor(readonly key: string) {
    super(`${key} does not hold the content its hash names`);
    this.name = 'ContentIntegrityError';
  }
}

export interface ContentCheck {
  sha256: string;
  encoding: Encoding;
}

/** Whether a whole buffer is the content `check` names (a variant: once decompressed). */
export async function holdsContent(buffer: Buffer, check: ContentCheck): Promise<boolean> {
  let identity: Buffer;
  try {
    identity = check.encoding === 'identity' ? buffer : await decompress[check.encoding](buffer);
  } catch {
    return false; // not even a valid brotli or gzip stream
  }
  return createHash('sha256').update(identity).digest('hex') === check.sha256;
}

/**
 * Passes a streamed body through while hashing it (a variant: its decompressed bytes), and
 * holds the last chunk back until the hash is known: on a mismatch the stream fails before
 * the client has every byte of its Content-Length, so it never takes foreign bytes for the file.
 */
export function verifyingStream(key: string, check: ContentCheck, onVerified?: () => void): Transform {
  const hash = createHash('sha256');
  const inflate = check.encoding === 'br' ? createBrotliDecompress() : check.encoding === 'gzip' ? createGunzip() : null;
  const hashSink = new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done();
    },
  });
  const inflated = inflate ? pipeline(inflate, hashSink) : null;
  let held: Buffer | null = null;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (inflate) inflate.write(chunk);
      else hash.update(chunk);
      const previous = held;
      held = chunk;
      done(null, previous ?? undefined);
    },
    flush(done) {
      const finish = () => {
        if (hash.digest('hex') !== check.sha256) return done(new ContentIntegrityError(key));
        onVerified?.();
        done(null, held ?? undefined);
      };
      if (!inflate || !inflated) return finish();
      inflate.end();
      inflated.then(finish, () => done(new ContentIntegrityError(key)));
    },
  });
}

/** Reads a whole stream only to check it (before serving a range of a large file). */
export async function streamHoldsContent(body: Readable, key: string, check: ContentCheck): Promise<boolean> {
  try {
    await pipeline(body, verifyingStream(key, check), async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source);
    });
    return true;
  } catch (err) {
    if (err instanceof ContentIntegrityError) return false;
    throw err;
  }
}
