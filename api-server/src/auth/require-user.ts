import type { RequestHandler, Response } from 'express';
import { HttpError } from '../http/errors.ts';
import type { AuthService, Credential } from './auth-service.ts';
import type { UserRow } from './auth-repo.ts';

/** Requires `Authorization: Bearer <token>`; the user is then `currentUser(res)`. */
export function requireUser(auth: Pick<AuthService, 'authenticate'>): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'unauthenticated', 'sign in: send Authorization: Bearer <access token or API token>');
    }
    const found = await auth.authenticate(match[1]!);
    if (!found) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new HttpError(401, 'invalid_token', 'the access token or API token is invalid, expired or revoked');
    }
    res.locals.user = found.user;
    res.locals.credential = found.credential;
    next();
  };
}

export function currentUser(res: Response): UserRow {
  const user = res.locals.user as UserRow | undefined;
  if (!user) throw new HttpError(401, 'unauthenticated', 'sign in first');
  return user;
}

/** The session or API token the request was authenticated with. */
export function currentCredential(res: Response): Credential {
  const credential = res.locals.credential as Credential | undefined;
  if (!credential) throw new HttpError(401, 'unauthenticated', 'sign in first');
  return credential;
}
