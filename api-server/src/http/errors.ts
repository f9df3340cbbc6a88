import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { Logger } from '@platform/logger';
import { DomainError, type DomainErrorKind } from '../domain-error.ts';

/** An error with an HTTP status and a stable code, turned into a response only by `errorHandler`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** The one table from a domain failure to an HTTP status. */
export const DOMAIN_ERROR_STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
};

/** A domain error as the HttpError the edge answers with; anything else is returned as it is. */
export function toHttpError<T>(err: T): HttpError | T {
  if (!(err instanceof DomainError)) return err;
  return new HttpError(DOMAIN_ERROR_STATUS[err.kind], err.code, err.message, err.details);
}

/**
 * Parses a request body with a zod schema; a failure is a 400 naming each bad field. No body
 * at all is a failure unless the schema has a default for it (an optional body).
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === undefined && !schema.safeParse(undefined).success) {
    throw new HttpError(400, 'invalid_body', 'invalid request body: (body): a JSON body is required (content-type: application/json)', {
      issues: [{ field: '(body)', message: 'a JSON body is required' }],
    });
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
    const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
    throw new HttpError(400, 'invalid_body', `invalid request body: ${summary}`, { issues });
  }
  // Unknown fields are dropped by the schema; what is kept must fit PostgreSQL text.
  const nul = findNul(result.data);
  if (nul !== null) {
    throw new HttpError(400, 'invalid_body', `invalid request body: ${nul || '(body)'}: must not contain NUL characters`, {
      issues: [{ field: nul || '(body)', message: 'must not contain NUL characters' }],
    });
  }
  return result.data;
}

/** Parses a query string with a zod schema; a failure is a 400 naming each bad parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ parameter: i.path.join('.') || '(query)', message: i.message }));
  const summary = issues.map((i) => `${i.parameter}: ${i.message}`).join('; ');
  throw new HttpError(400, 'invalid_query', `invalid query: ${summary}`, { issues });
}

/** The path of the first string (or key) holding a NUL character, which PostgreSQL text cannot store; null when none. */
function findNul(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path : null;
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\0')) return at;
    const found = findNul(child, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** A NUL anywhere in the decoded path or query cannot name anything here: 400 before any handler sees it. */
export const refuseNulInUrl: RequestHandler = (req, _res, next) => {
  if (/%00/i.test(req.originalUrl)) return next(new HttpError(400, 'invalid_url', 'the URL must not contain NUL characters (%00)'));
  next();
};

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** The one place errors become responses: `{ error: { code, message, details } }`, never a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (thrown, req, res, _next) => {
    const err = toHttpError(thrown);
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
      return;
    }
    // body-parser errors carry a status and a type (entity.parse.failed, entity.too.large, ...).
    const status = typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = err.type === 'entity.parse.failed' ? 'invalid_json' : err.type === 'entity.too.large' ? 'body_too_large' : 'bad_request';
      const message =
        code === 'invalid_json'
          ? 'request body is not valid JSON'
          : code === 'body_too_large'
            ? 'request body is too large'
            : String(err.message ?? 'bad request');
      res.status(status).json({ error: { code, message } });
      return;
    }
    // Only what explains the failure: driver errors carry query parameters, which may hold secrets.
    const safe =
      err instanceof Error ? { name: err.name, message: err.message, code: (err as { code?: unknown }).code, stack: err.stack } : { message: String(err) };
    logger.error({ err: safe, method: req.method, path: req.path, requestId: res.locals.requestId }, 'request failed');
    res.status(500).json({ error: { code: 'internal', message: 'internal server error' } });
  };
}
