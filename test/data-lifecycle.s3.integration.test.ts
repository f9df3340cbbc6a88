import { integrationEnv } from '@platform/testing/infra-env';
import { describeDataLifecycle } from './data-lifecycle.scenario.ts';

// The same scenario with build output, caches and route records in S3 (moto); each run's
// projects have fresh names, so their keys never meet another run's in the shared bucket.
describeDataLifecycle('S3 on moto', () => {
  const env = integrationEnv('S3_ENDPOINT', 'S3_BUCKET', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
  return { ...env, S3_FORCE_PATH_STYLE: 'true' };
});
