import { ConflictError, NotFoundError } from '../domain-error.ts';

export class EnvVarExists extends ConflictError {
  constructor(key: string) {
    super('env_var_exists', `${key} already exists for one of these targets; PATCH it to change its value`);
  }
}

export class EnvVarNotFound extends NotFoundError {
  constructor() {
    super('env var');
  }
}
