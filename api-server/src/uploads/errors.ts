import { ConflictError, InvalidInputError, TooLargeError } from '../domain-error.ts';

/** 409: the resource `/uploads/<hash>` is the content with that hash; other bytes conflict with it. */
export class ContentHashMismatch extends ConflictError {
  constructor(claimed: string, actual: string) {
    super('content_hash_mismatch', `the uploaded bytes have sha256 ${actual}, not ${claimed}: nothing was stored`);
  }
}

export class InvalidContentHash extends InvalidInputError {
  constructor() {
    super('invalid_hash', 'the content hash must be a lowercase hex sha256 (64 characters)');
  }
}

/** 409: valid, but the project's state lacks contents it names (upload them first). */
export class MissingContents extends ConflictError {
  constructor(paths: readonly string[]) {
    const shown = paths.slice(0, 5).join(', ');
    super('missing_contents', `${paths.length} file(s) name content that was never uploaded: ${shown}${paths.length > 5 ? ', …' : ''}`, {
      paths: paths.slice(0, 100),
    });
  }
}

export class InvalidRoutingConfig extends InvalidInputError {
  constructor(message: string) {
    super('invalid_vercel_json', message);
  }
}

export class EmptyDeployment extends InvalidInputError {
  constructor() {
    super('empty_deployment', 'a deployment needs at least one file');
  }
}

export class UploadTooLarge extends TooLargeError {
  constructor(message: string) {
    super('upload_too_large', message);
  }
}
