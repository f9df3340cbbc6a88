// moto S3 as the platform uses it: @aws-sdk/client-s3 v3, path-style, against S3_ENDPOINT.
import {
  S3Client,
  HeadBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { check, done } from './check.mjs';

const s3 = new S3Client({ endpoint: process.env.S3_ENDPOINT, forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true', region: process.env.AWS_REGION });
const Bucket = process.env.S3_BUCKET;
const p = `infra-selftest-${Date.now()}/`; // own prefix: the bucket may hold someone else's objects
const md5 = (b) => createHash('md5').update(b).digest('hex');
const get = async (Key, extra = {}) => (await s3.send(new GetObjectCommand({ Bucket, Key, ...extra }))).Body;

await check('bucket exists', async () => {
  await s3.send(new HeadBucketCommand({ Bucket }));
});
await check('PutObject/GetObject string + content type', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: `${p}a.txt`, Body: 'hello world', ContentType: 'text/plain' }));
  const r = await s3.send(new GetObjectCommand({ Bucket, Key: `${p}a.txt` }));
  return (await r.Body.transformToString()) === 'hello world' && r.ContentType === 'text/plain';
});
const bin = Buffer.alloc(300_000, 7);
await check('PutObject/GetObject binary buffer', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: `${p}sub/b.bin`, Body: bin }));
  return md5(Buffer.from(await (await get(`${p}sub/b.bin`)).transformToByteArray())) === md5(bin);
});
await check('PutObject stream body with ContentLength', async () => {
  await s3.send(new PutObjectCommand({ Bucket, Key: `${p}c.txt`, Body: Readable.from([Buffer.from('streamed!')]), ContentLength: 9 }));
  return (await (await get(`${p}c.txt`)).transformToString()) === 'streamed!';
});
await check('HeadObject', async () => (await s3.send(new HeadObjectCommand({ Bucket, Key: `${p}sub/b.bin` }))).ContentLength === bin.length);
await check('GetObject Range', async () => (await (await get(`${p}a.txt`, { Range: 'bytes=0-4' })).transformToString()) === 'hello');
await check('ListObjectsV2 prefix + delimiter', async () => {
  const l = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: p, Delimiter: '/' }));
  return (
    l.Contents.map((c) => c.Key)
      .sort()
      .join() === `${p}a.txt,${p}c.txt` && l.CommonPrefixes[0].Prefix === `${p}sub/`
  );
});
await check('ListObjectsV2 pagination', async () => {
  const a = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: p, MaxKeys: 2 }));
  const b = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: p, MaxKeys: 2, ContinuationToken: a.NextContinuationToken }));
  return a.IsTruncated && a.KeyCount === 2 && b.KeyCount === 1 && !b.IsTruncated;
});
await check('multipart upload (Create/UploadPart/Complete)', async () => {
  const Key = `${p}mp/raw.bin`,
    part1 = Buffer.alloc(5 * 1024 * 1024, 1),
    part2 = Buffer.alloc(1234, 2);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const e1 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: part1 }));
  const e2 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: part2 }));
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId,
      MultipartUpload: {
        Parts: [
          { ETag: e1.ETag, PartNumber: 1 },
          { ETag: e2.ETag, PartNumber: 2 },
        ],
      },
    }),
  );
  return md5(Buffer.from(await (await get(Key)).transformToByteArray())) === md5(Buffer.concat([part1, part2]));
});
await check('lib-storage Upload of a stream (multipart)', async () => {
  const big = Buffer.alloc(12 * 1024 * 1024, 3);
  await new Upload({
    client: s3,
    partSize: 5 * 1024 * 1024,
    params: { Bucket, Key: `${p}mp/lib.bin`, Body: Readable.from([big.subarray(0, 7e6), big.subarray(7e6)]) },
  }).done();
  return md5(Buffer.from(await (await get(`${p}mp/lib.bin`)).transformToByteArray())) === md5(big);
});
await check('CopyObject', async () => {
  await s3.send(new CopyObjectCommand({ Bucket, Key: `${p}copy.txt`, CopySource: `${Bucket}/${p}a.txt` }));
  return (await (await get(`${p}copy.txt`)).transformToString()) === 'hello world';
});
await check('DeleteObject, then GetObject -> NoSuchKey', async () => {
  for (const k of ['a.txt', 'sub/b.bin', 'c.txt', 'copy.txt', 'mp/raw.bin', 'mp/lib.bin']) await s3.send(new DeleteObjectCommand({ Bucket, Key: p + k }));
  try {
    await get(`${p}a.txt`);
    return false;
  } catch (e) {
    return e.name === 'NoSuchKey';
  }
});
done('s3');
