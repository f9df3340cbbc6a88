// Moved to @platform/contracts: the uploads API types and caches uploaded files by the same rules as a build.
export { cachePolicyFor, contentTypeFor, IMMUTABLE, isCompressible, REVALIDATE } from '@platform/contracts';
