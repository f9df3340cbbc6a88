import { InvalidInputError, NotFoundError, UnauthenticatedError } from '../domain-error.ts';

/** One answer for "no such project" and "wrong secret", so a caller learns nothing. */
export class SignatureMismatch extends UnauthenticatedError {
  constructor() {
    super('invalid_signature', 'the signature does not match the webhook secret of any project building this repository');
  }
}

export class InvalidPayload extends InvalidInputError {
  constructor(reason: string) {
    super('invalid_json', `the webhook payload ${reason}`);
  }
}

export class DeployHookNotFound extends NotFoundError {
  constructor() {
    super('deploy hook');
  }
}

export class DeliveryNotFound extends NotFoundError {
  constructor() {
    super('delivery');
  }
}
