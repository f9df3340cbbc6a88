import { describe, expect, it } from 'vitest';
import { integrationEnv } from '@platform/testing/infra-env';
import { describeObjectStoreContract } from './object-store.contract.ts';
import { createS3ObjectStore } from './s3.ts';

/** The S3-compatible server of `npm run infra:up` (moto), or any other given by the same variables. */
function s3Settings() {
  const env = integrationEnv('S3_ENDPOINT', 'S3_BUCKET', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
  return {
    bucket: env.S3_BUCKET,
    region: env.AWS_REGION,
    endpoint: env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
}

describeObjectStoreContract('S3 via @aws-sdk/client-s3', async () => ({ store: createS3ObjectStore(s3Settings()) }));

describe('S3 driver', () => {
  it('fails loudly when the bucket does not exist instead of answering "not found"', async () => {
    const store = createS3ObjectStore({ ...s3Settings(), bucket: `no-such-bucket-${Date.now()}`, maxAttempts: 1 });
    try {
      await expect(store.get('routes/site.localhost.json')).rejects.toThrow(/bucket/i);
      await expect(store.getBuffer('routes/site.localhost.json')).rejects.toThrow(/bucket/i);
    } finally {
      await store.close?.();
    }
  });

  it('retries with backoff and then reports an unreachable endpoint', async () => {
    const store = createS3ObjectStore({ ...s3Settings(), endpoint: 'http://127.0.0.1:9', maxAttempts: 3 });
    try {
      const error = (await store.getBuffer('x').catch((err: unknown) => err)) as { $metadata?: { attempts?: number } };
      expect(error).toBeInstanceOf(Error);
      expect(error.$metadata?.attempts).toBe(3);
    } finally {
      await store.close?.();
    }
  });
});
