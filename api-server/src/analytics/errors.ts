import { InvalidInputError } from '../domain-error.ts';

export class InvalidAnalyticsQuery extends InvalidInputError {
  constructor(message: string) {
    super('invalid_query', message);
  }
}
