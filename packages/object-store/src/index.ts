export type { ObjectStore, StoredObject, PutOptions, ByteRange, ObjectInfo } from './object-store.ts';
export { ObjectNotFoundError, assertValidKey } from './object-store.ts';
export { createLocalObjectStore } from './local.ts';
export { createS3ObjectStore, type S3ObjectStoreOptions } from './s3.ts';
export { createObjectStore } from './from-settings.ts';
export {
  createStsUploadCredentials,
  UPLOAD_SESSION_TAGS,
  type UploadCredentialMinter,
  type UploadScope,
  type StsUploadCredentialsOptions,
} from './upload-credentials.ts';
export { ContentStore, MIN_COMPRESS_BYTES, sha256Hex, type ContentVariants, type StoredContent } from './content-store.ts';
export { removeDeploymentFiles, deploymentFilesBytes, deploymentPrefix } from './deployment-files.ts';
