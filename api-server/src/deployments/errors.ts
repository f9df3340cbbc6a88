import type { DeploymentStatus } from '@platform/contracts';
import { ConflictError } from '../domain-error.ts';

export class NotCancelable extends ConflictError {
  constructor(status: DeploymentStatus) {
    super('not_cancelable', `the deployment already ended (${status})`);
  }
}

export class NotReady extends ConflictError {
  constructor(status: DeploymentStatus) {
    super('not_ready', `only a READY deployment can be promoted; this one is ${status}`);
  }
}

export class BeingDeleted extends ConflictError {
  constructor() {
    super('deployment_deleting', 'the deployment is being deleted; promote another one');
  }
}
