import type { RequestHandler, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import type { ApiToken, User } from '@platform/contracts';
import { HttpError } from '../errors.ts';
import { randomSecret, sha256Hex } from '../crypto/tokens.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import type { ApiTokenRow, UserRow, UsersRepo } from './users-repo.ts';

/** API tokens start with this, so the server (and secret scanners) tell them from JWTs. */
export const API_TOKEN_PREFIX = 'plt';
const ISSUER = 'platform-api';
const AUDIENCE = 'platform-api';

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export const presentUser = (row: UserRow): User => ({ id: row.id, email: row.email, createdAt: iso(row.created_at)! });

export const presentApiToken = (row: ApiTokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  prefix: row.token_prefix,
  createdAt: iso(row.created_at)!,
  expiresAt: iso(row.expires_at),
  lastUsedAt: iso(row.last_used_at),
  revokedAt: iso(row.revoked_at),
});

/**
 * Accounts and credentials: scrypt passwords, short-lived JWT access tokens (HS256, `jose`)
 * and long-lived API tokens for scripts, stored only as a SHA-256 and revocable.
 */
export class Auth {
  constructor(
    private readonly deps: { users: UsersRepo; jwtSecret: Uint8Array; accessTokenTtlSeconds: number },
  ) {}

  /** `firstOnly`: single-user mode, where builds are not sandboxed: a second account is refused. */
  async signup(email: string, password: string, options: { firstOnly?: boolean } = {}): Promise<UserRow> {
    const hash = await hashPassword(password);
    if (options.firstOnly) {
      const first = await this.deps.users.createFirst(email, hash);
      if (!first) {
        throw new HttpError(
          403,
          'signup_single_user',
          'sign-up is closed: this platform runs builds without a sandbox (single-user mode), so it has one account; install bubblewrap and slirp4netns to open it',
        );
      }
      return first;
    }
    const user = await this.deps.users.create(email, hash);
    if (!user) throw new HttpError(409, 'email_taken', 'an account with this email already exists');
    return user;
  }

  /** The same error, after the same work, for an unknown email and a wrong password. */
  async login(email: string, password: string): Promise<UserRow> {
    const user = await this.deps.users.getByEmail(email);
    const ok = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!user || !ok) throw new HttpError(401, 'invalid_credentials', 'email or password is wrong');
    return user;
  }

  async issueAccessToken(user: UserRow): Promise<{ accessToken: string; expiresAt: string }> {
    const exp = Math.floor(Date.now() / 1000) + this.deps.accessTokenTtlSeconds;
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.deps.jwtSecret);
    return { accessToken, expiresAt: new Date(exp * 1000).toISOString() };
  }

  async createApiToken(user: UserRow, name: string, expiresInDays?: number): Promise<{ row: ApiTokenRow; secret: string }> {
    const secret = randomSecret(API_TOKEN_PREFIX);
    const row = await this.deps.users.createToken({
      userId: user.id,
      name,
      tokenHash: sha256Hex(secret),
      prefix: secret.slice(0, API_TOKEN_PREFIX.length + 7),
      expiresAt: expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null,
    });
    return { row, secret };
  }

  /** The user a bearer credential (JWT or API token) belongs to; null when it is not valid. */
  async userFor(credential: string): Promise<UserRow | null> {
    if (credential.length > 4096) return null;
    if (credential.startsWith(`${API_TOKEN_PREFIX}_`)) return this.deps.users.userForToken(sha256Hex(credential));
    try {
      const { payload } = await jwtVerify(credential, this.deps.jwtSecret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      return payload.sub ? this.deps.users.get(payload.sub) : null;
    } catch {
      return null;
    }
  }

  /** Requires `Authorization: Bearer <token>`; the user is then `currentUser(res)`. */
  requireUser(): RequestHandler {
    return async (req, res, next) => {
      const header = req.get('authorization');
      const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        throw new HttpError(401, 'unauthenticated', 'sign in: send Authorization: Bearer <access token or API token>');
      }
      const user = await this.userFor(match[1]!);
      if (!user) {
        res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
        throw new HttpError(401, 'invalid_token', 'the access token or API token is invalid, expired or revoked');
      }
      res.locals.user = user;
      next();
    };
  }
}

export function currentUser(res: Response): UserRow {
  const user = res.locals.user as UserRow | undefined;
  if (!user) throw new HttpError(401, 'unauthenticated', 'sign in first');
  return user;
}
