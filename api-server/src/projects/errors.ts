import { ConflictError, InvalidInputError, NotFoundError } from '../domain-error.ts';

export class ProjectNotFound extends NotFoundError {
  constructor(id?: string) {
    super(id ? `project ${id}` : 'project');
  }
}

/** A setting zod accepted but the platform cannot use (a git URL, a command line, a name). */
export class InvalidProjectSettings extends InvalidInputError {
  constructor(field: string, reason: string) {
    super('invalid_body', `invalid request body: ${field}: ${reason}`);
  }
}

export class SlugTaken extends ConflictError {
  constructor(slug: string) {
    super('slug_taken', `a project with the subdomain "${slug}" already exists`);
  }
}
