import { Router } from 'express';
import { createApiTokenBodySchema, loginBodySchema, signupBodySchema } from '@platform/contracts';
import { HttpError, notFound, parseBody } from '../errors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { currentUser, presentApiToken, presentUser, type Auth } from './auth.ts';
import type { UsersRepo } from './users-repo.ts';

/** Sign-up, login, the current user and their API tokens. */
export function authRoutes(deps: { auth: Auth; users: UsersRepo; loginLimiter: RateLimiter; signup: 'open' | 'first-account' | 'closed' }): Router {
  const router = Router();
  const { auth, users } = deps;
  const requireUser = auth.requireUser();

  router.post('/auth/signup', deps.loginLimiter.middleware('sign-up'), async (req, res) => {
    if (deps.signup === 'closed') throw new HttpError(403, 'signup_disabled', 'sign-up is disabled on this platform (ALLOW_SIGNUP=false)');
    const body = parseBody(signupBodySchema, req.body);
    const user = await auth.signup(body.email, body.password, { firstOnly: deps.signup === 'first-account' });
    res.status(201).json({ user: presentUser(user), ...(await auth.issueAccessToken(user)) });
  });

  router.post('/auth/login', deps.loginLimiter.middleware('login'), async (req, res) => {
    const body = parseBody(loginBodySchema, req.body);
    const user = await auth.login(body.email, body.password);
    res.json({ user: presentUser(user), ...(await auth.issueAccessToken(user)) });
  });

  router.get('/auth/me', requireUser, (_req, res) => {
    res.json({ user: presentUser(currentUser(res)) });
  });

  router.post('/auth/tokens', requireUser, async (req, res) => {
    const body = parseBody(createApiTokenBodySchema, req.body);
    const { row, secret } = await auth.createApiToken(currentUser(res), body.name, body.expiresInDays);
    // The only time the token is shown: only its hash is stored.
    res.status(201).json({ token: presentApiToken(row), secret });
  });

  router.get('/auth/tokens', requireUser, async (_req, res) => {
    res.json({ tokens: (await users.listTokens(currentUser(res).id)).map(presentApiToken) });
  });

  router.delete('/auth/tokens/:tokenId', requireUser, async (req, res) => {
    const row = await users.revokeToken(currentUser(res).id, String(req.params.tokenId));
    if (!row) throw notFound('token');
    res.json({ token: presentApiToken(row) });
  });

  return router;
}
