import { describe, expect, it } from 'vitest';
import express from 'express';
import { createLogger } from '@platform/logger';
import { ConflictError, type DomainError, ForbiddenError, InvalidInputError, NotFoundError, UnauthenticatedError } from '../domain-error.ts';
import { HttpError, errorHandler, toHttpError } from './errors.ts';

class SlugTaken extends ConflictError {
  constructor() {
    super('slug_taken', 'taken');
  }
}

describe('domain errors at the edge', () => {
  it('maps each kind of domain error to its status, keeping code, message and details', () => {
    const cases: [DomainError, number][] = [
      [new InvalidInputError('invalid_body', 'bad', { field: 'x' }), 400],
      [new UnauthenticatedError('invalid_credentials', 'no'), 401],
      [new ForbiddenError('signup_disabled', 'off'), 403],
      [new NotFoundError('project'), 404],
      [new SlugTaken(), 409],
    ];
    for (const [err, status] of cases) {
      const http = toHttpError(err) as HttpError;
      expect(http).toBeInstanceOf(HttpError);
      expect([http.status, http.code, http.message, http.details]).toEqual([status, err.code, err.message, err.details]);
    }
    expect(new NotFoundError('project')).toMatchObject({ code: 'not_found', message: 'project not found', name: 'NotFoundError' });
    expect(new SlugTaken().name).toBe('SlugTaken');
  });

  it('leaves anything else alone', () => {
    const plain = new Error('boom');
    expect(toHttpError(plain)).toBe(plain);
  });

  it('answers a domain error thrown by a handler with its status and code, and hides other errors', async () => {
    const app = express();
    app.get('/taken', () => {
      throw new SlugTaken();
    });
    app.get('/boom', () => {
      throw new Error('secret detail');
    });
    app.use(errorHandler(createLogger({ level: 'silent' })));
    const server = app.listen(0);
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const taken = await fetch(`${base}/taken`);
      expect([taken.status, await taken.json()]).toEqual([409, { error: { code: 'slug_taken', message: 'taken' } }]);
      const boom = await fetch(`${base}/boom`);
      expect([boom.status, await boom.json()]).toEqual([500, { error: { code: 'internal', message: 'internal server error' } }]);
    } finally {
      server.close();
    }
  });
});
