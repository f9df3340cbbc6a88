export type { ObjectStore, StoredObject, PutOptions, ByteRange, ObjectInfo } from './object-store.ts';
export { ObjectNotFoundError, assertValidKey } from './object-store.ts';
export { createLocalObjectStore } from './local.ts';
export { createS3ObjectStore, type S3ObjectStoreOptions } from './s3.ts';
export { createObjectStore } from './from-settings.ts';
export { removeDeploymentFiles, deploymentFilesBytes, deploymentPrefix } from './deployment-files.ts';
