import type { RequestHandler } from 'express';
import { HttpError } from './errors.ts';

/** A path template (`/projects/{projectId}`) and the methods it answers. */
export interface KnownPath {
  path: string;
  methods: readonly string[];
}

/** The paths of an OpenAPI document and their methods. */
export function pathsOf(document: { paths?: Record<string, Record<string, unknown>> }): KnownPath[] {
  return Object.entries(document.paths ?? {}).map(([path, operations]) => ({ path, methods: Object.keys(operations).map((m) => m.toUpperCase()) }));
}

/** `/projects/{projectId}` → a matcher of one path segment per parameter (as the router matches: any case, optional trailing slash). */
function matcher(template: string): RegExp {
  const source = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${source}/?$`, 'i');
}

/**
 * A method a known path does not answer gets 405 with an `Allow` header listing the ones it
 * does (HEAD wherever GET is); OPTIONS gets that header and 204. Paths not listed go on to
 * the routes (and to 404). Mounted before authentication: the answer depends only on the path.
 */
export function methodNotAllowed(paths: readonly KnownPath[]): RequestHandler {
  const known = paths.map(({ path, methods }) => {
    const allowed = new Set(methods.map((m) => m.toUpperCase()));
    if (allowed.has('GET')) allowed.add('HEAD');
    return { match: matcher(path), allowed };
  });
  return (req, res, next) => {
    const allowed = new Set<string>();
    for (const k of known) if (k.match.test(req.path)) for (const m of k.allowed) allowed.add(m);
    if (allowed.size === 0 || allowed.has(req.method)) return next();
    const allow = [...allowed].join(', ');
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allow}`));
  };
}
