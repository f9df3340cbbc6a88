import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../domain-error.ts';

export class GithubAppNotConfigured extends ConflictError {
  constructor() {
    super('github_app_not_configured', 'no GitHub App is configured on this platform (the operator sets GITHUB_APP_ID and the other GITHUB_APP_* settings)');
  }
}

/** The GitHub user behind the sign-in code cannot reach this installation: it is not theirs to connect. */
export class InstallationNotAccessible extends ForbiddenError {
  constructor(id: number) {
    super('installation_not_accessible', `installation ${id} is not one the GitHub user who signed in can reach`);
  }
}

/** GitHub refused the sign-in code or could not be reached while checking it. */
export class GithubSignInFailed extends InvalidInputError {
  constructor(reason: string) {
    super('github_sign_in_failed', `GitHub did not accept the sign-in code: ${reason}`);
  }
}

export class InstallationNotFound extends NotFoundError {
  constructor() {
    super('installation');
  }
}

export class RepositoryNotInInstallation extends NotFoundError {
  constructor() {
    super('repository in this installation');
  }
}

export class PullRequestNotFound extends NotFoundError {
  constructor() {
    super('pull request');
  }
}

export class NothingToApprove extends ConflictError {
  constructor(number: number) {
    super('nothing_to_approve', `pull request #${number} has no build waiting for approval`);
  }
}
