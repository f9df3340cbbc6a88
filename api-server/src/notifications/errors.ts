import { ConflictError, InvalidInputError, NotFoundError } from '../domain-error.ts';

export class PrivateEndpointUrl extends InvalidInputError {
  constructor(reason: string) {
    super('invalid_body', `invalid request body: url: ${reason} (allowed only with ALLOW_PRIVATE_WEBHOOK_URLS=true)`);
  }
}

export class TooManyEndpoints extends ConflictError {
  constructor(max: number) {
    super('too_many_endpoints', `a project can have at most ${max} notification endpoints`);
  }
}

export class EndpointNotFound extends NotFoundError {
  constructor() {
    super('notification endpoint');
  }
}
