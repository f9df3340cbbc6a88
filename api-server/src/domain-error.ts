/**
 * What kind of failure a use-case reports. Services and repositories throw these (never an
 * HTTP type); the edge's error middleware alone decides which status each kind becomes.
 */
export type DomainErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'too_large';

/** A failure the caller can act on, with a stable `code` clients may branch on. */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;

  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input the use-case refuses (what zod cannot check: a git URL, a command line, a slug). */
export class InvalidInputError extends DomainError {
  readonly kind = 'invalid';
}

export class UnauthenticatedError extends DomainError {
  readonly kind = 'unauthenticated';
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}

/** `what` is named in the message (`project not found`); every kind of missing thing shares the code. */
export class NotFoundError extends DomainError {
  readonly kind = 'not_found';

  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

/** The request is valid but the current state forbids it (a taken name, a finished build). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

/** Input over a platform limit (an upload bigger than a file or a deployment may be). */
export class TooLargeError extends DomainError {
  readonly kind = 'too_large';
}
