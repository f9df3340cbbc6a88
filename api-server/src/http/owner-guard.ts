import type { RequestHandler, Response } from 'express';
import { HttpError } from './errors.ts';

/** Every id the platform makes has this shape; anything else cannot exist. */
const VALID_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Tenant isolation at the edge: a guard mounted on a path with an id parameter looks the
 * resource up for the signed-in caller and keeps it in `res.locals`; a resource the caller
 * does not own gets the same 404 as one that does not exist, so ids cannot be probed.
 * `find` returns the locals to set, or null.
 */
export function requireOwned(param: string, what: string, find: (id: string, res: Response) => Promise<Record<string, unknown> | null>): RequestHandler {
  return async (req, res, next) => {
    const id = String(req.params[param] ?? '');
    const found = VALID_ID.test(id) ? await find(id, res) : null;
    if (!found) throw new HttpError(404, 'not_found', `${what} not found`);
    Object.assign(res.locals, found);
    next();
  };
}

/** What a guard mounted above this route put in `res.locals`; a route mounted without it is a bug. */
export function guarded<T>(res: Response, key: string): T {
  const value = res.locals[key] as T | undefined;
  if (value === undefined) throw new Error(`route mounted without the ${key}-owner guard`);
  return value;
}
