import { ConflictError, InvalidInputError, NotFoundError } from '../domain-error.ts';

export class DomainNotFound extends NotFoundError {
  constructor() {
    super('domain');
  }
}

/** A hostname belongs to one project at a time. */
export class DomainTaken extends ConflictError {
  constructor(hostname: string) {
    super('domain_taken', `${hostname} is already added to a project; remove it there first`);
  }
}

/** A name the platform itself serves (`*.ROOT_DOMAIN`). */
export class DomainRefused extends InvalidInputError {
  constructor(message: string) {
    super('invalid_domain', message);
  }
}

/** HTTPS for custom domains is not configured on this platform (no certificate store key). */
export class DomainsDisabled extends ConflictError {
  constructor() {
    super('domains_disabled', 'custom domains are not enabled here: set CERTIFICATE_STORE_KEY (and ACME_EMAIL) on the api-server');
  }
}

/** A redirect must name another domain the project already has (add that one first). */
export class RedirectTargetUnknown extends ConflictError {
  constructor(hostname: string, redirectTo: string) {
    super(
      'redirect_target_unknown',
      redirectTo === hostname
        ? `redirectTo must name another domain of this project than ${hostname}`
        : `redirectTo ${redirectTo} must be a domain of this project: add it first`,
    );
  }
}
