import { Router, type RequestHandler } from 'express';
import { createApiTokenBodySchema, loginBodySchema, signupBodySchema } from '@platform/contracts';
import { parseBody } from '../http/errors.ts';
import { accountAndAddress, type RateLimiter } from '../http/rate-limit.ts';
import type { AuthService } from './auth-service.ts';
import { presentApiToken, presentSession, presentUser } from './presenters.ts';
import { currentCredential, currentUser } from './require-user.ts';

/** Sign-up, login, the current user and their API tokens. */
export function authRoutes(deps: {
  auth: AuthService;
  requireUser: RequestHandler;
  loginLimiters: { account: RateLimiter; address: RateLimiter };
  signupLimiter: RateLimiter;
}): Router {
  const router = Router();
  const { auth, requireUser } = deps;
  // Guessing one account's password is limited per (account, address): an attacker locks out
  // only their own attempts at it, never another client's login or anyone's sign-up.
  const loginLimits = [deps.loginLimiters.address.middleware('login'), deps.loginLimiters.account.middleware('login', accountAndAddress)];

  router.post('/auth/signup', deps.signupLimiter.middleware('sign-up'), async (req, res) => {
    auth.assertSignupEnabled();
    const body = parseBody(signupBodySchema, req.body);
    const user = await auth.signup(body.email, body.password);
    res.status(201).json({ user: presentUser(user), ...(await auth.issueAccessToken(user)) });
  });

  router.post('/auth/login', ...loginLimits, async (req, res) => {
    const body = parseBody(loginBodySchema, req.body);
    const user = await auth.login(body.email, body.password);
    res.json({ user: presentUser(user), ...(await auth.issueAccessToken(user)) });
  });

  // Sign-out: the credential this request carries stops working at once, on REST and on sockets.
  router.post('/auth/logout', requireUser, async (_req, res) => {
    await auth.logout(currentUser(res), currentCredential(res));
    res.status(204).end();
  });

  router.get('/auth/sessions', requireUser, async (_req, res) => {
    const current = currentCredential(res);
    res.json({ sessions: (await auth.listSessions(currentUser(res))).map((row) => presentSession(row, current)) });
  });

  router.delete('/auth/sessions/:sessionId', requireUser, async (req, res) => {
    const row = await auth.revokeSession(currentUser(res), String(req.params.sessionId));
    res.json({ session: presentSession(row, currentCredential(res)) });
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
    res.json({ tokens: (await auth.listTokens(currentUser(res))).map(presentApiToken) });
  });

  router.delete('/auth/tokens/:tokenId', requireUser, async (req, res) => {
    res.json({ token: presentApiToken(await auth.revokeToken(currentUser(res), String(req.params.tokenId))) });
  });

  return router;
}
