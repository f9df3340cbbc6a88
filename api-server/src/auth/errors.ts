import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../domain-error.ts';

export class SignupDisabled extends ForbiddenError {
  constructor() {
    super('signup_disabled', 'sign-up is disabled on this platform (ALLOW_SIGNUP=false)');
  }
}

export class SignupSingleUser extends ForbiddenError {
  constructor() {
    super(
      'signup_single_user',
      'sign-up is closed: this platform runs builds without a sandbox (single-user mode), so it has one account; install bubblewrap and slirp4netns to open it',
    );
  }
}

export class EmailTaken extends ConflictError {
  constructor() {
    super('email_taken', 'an account with this email already exists');
  }
}

/** One error for an unknown email and a wrong password. */
export class InvalidCredentials extends UnauthenticatedError {
  constructor() {
    super('invalid_credentials', 'email or password is wrong');
  }
}

export class TokenNotFound extends NotFoundError {
  constructor() {
    super('token');
  }
}

export class SessionNotFound extends NotFoundError {
  constructor() {
    super('session');
  }
}
