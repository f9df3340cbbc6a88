import type { StorageSettings } from '@platform/contracts';
import { createLocalObjectStore } from './local.ts';
import type { ObjectStore } from './object-store.ts';
import { createS3ObjectStore } from './s3.ts';

/** The driver a service's config (or a build task) names. */
export function createObjectStore(settings: StorageSettings): ObjectStore {
  switch (settings.driver) {
    case 'local':
      return createLocalObjectStore({ rootDir: settings.dir });
    case 's3':
      return createS3ObjectStore({
        bucket: settings.bucket,
        region: settings.region,
        forcePathStyle: settings.forcePathStyle,
        ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
        ...(settings.credentials ? { credentials: settings.credentials } : {}),
      });
  }
}
