import type { DeploymentStatus } from '@platform/contracts';
import { ConflictError } from '../domain-error.ts';

/** A deployment an alias serves cannot be deleted: the hostname would stop serving. */
export class DeploymentServed extends ConflictError {
  constructor(readonly hosts: readonly string[]) {
    super(
      'deployment_served',
      `this deployment is what ${hosts.join(', ')} ${hosts.length === 1 ? 'serves' : 'serve'} now; promote or deploy another one there first, then delete it`,
      { hosts },
    );
  }
}

/** Only a finished build can be deleted; a running one is canceled first. */
export class DeploymentNotFinished extends ConflictError {
  constructor(status: DeploymentStatus) {
    super('deployment_not_finished', `the deployment is ${status}; cancel it first, then delete it`);
  }
}
