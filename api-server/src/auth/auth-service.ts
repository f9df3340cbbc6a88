import { SignJWT, jwtVerify } from 'jose';
import { randomSecret, sha256Hex } from '../crypto/tokens.ts';
import { EmailTaken, InvalidCredentials, SessionNotFound, SignupDisabled, SignupSingleUser, TokenNotFound } from './errors.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import type { ApiTokenRow, SessionRow, UserRow, UsersRepo } from './auth-repo.ts';

/** API tokens start with this, so the server (and secret scanners) tell them from JWTs. */
export const API_TOKEN_PREFIX = 'plt';
const ISSUER = 'platform-api';
const AUDIENCE = 'platform-api';

/** What a bearer token stood for: a sign-in session (access token) or an API token. */
export interface Credential {
  kind: 'session' | 'api-token';
  id: string;
}

/** Who may sign up: anyone, only the first account (single-user mode), or nobody. */
export type SignupMode = 'open' | 'first-account' | 'closed';

/**
 * Accounts and credentials: scrypt passwords, short-lived JWT access tokens (HS256, `jose`)
 * and long-lived API tokens for scripts, stored only as a SHA-256 and revocable.
 */
export class AuthService {
  private readonly revocationListeners = new Set<() => void>();

  constructor(private readonly deps: { users: UsersRepo; jwtSecret: Uint8Array; accessTokenTtlSeconds: number; signup?: SignupMode }) {}

  /** Refuses at once when sign-up is switched off, before the request is even read. */
  assertSignupEnabled(): void {
    if (this.deps.signup === 'closed') throw new SignupDisabled();
  }

  /** In single-user mode (builds not sandboxed) a second account is refused. */
  async signup(email: string, password: string): Promise<UserRow> {
    this.assertSignupEnabled();
    const hash = await hashPassword(password);
    if (this.deps.signup === 'first-account') {
      const first = await this.deps.users.createFirst(email, hash);
      if (!first) throw new SignupSingleUser();
      return first;
    }
    const user = await this.deps.users.create(email, hash);
    if (!user) throw new EmailTaken();
    return user;
  }

  /** The same error, after the same work, for an unknown email and a wrong password. */
  async login(email: string, password: string): Promise<UserRow> {
    const user = await this.deps.users.getByEmail(email);
    const ok = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!user || !ok) throw new InvalidCredentials();
    return user;
  }

  /** A new session and the access token naming it (jti): revocable by signing out. */
  async issueAccessToken(user: UserRow): Promise<{ accessToken: string; expiresAt: string }> {
    const exp = Math.floor(Date.now() / 1000) + this.deps.accessTokenTtlSeconds;
    const sessionId = await this.deps.users.createSession(user.id, new Date(exp * 1000));
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setJti(sessionId)
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
    return (await this.authenticate(credential))?.user ?? null;
  }

  /** `userFor` for a credential already in use (an open socket's re-check): an API token is not marked used again. */
  async stillValid(credential: string): Promise<UserRow | null> {
    return (await this.authenticate(credential, false))?.user ?? null;
  }

  /**
   * The user and the credential (session or API token) a bearer token stands for; null when
   * it is invalid, expired or revoked. Checked against the database every time, so a
   * revocation holds at once on every replica. An access token without a session (from before
   * sessions existed) is no longer accepted.
   */
  async authenticate(credential: string, touch = true): Promise<{ user: UserRow; credential: Credential } | null> {
    if (credential.length > 4096) return null;
    if (credential.startsWith(`${API_TOKEN_PREFIX}_`)) {
      const found = await this.deps.users.userForToken(sha256Hex(credential), touch);
      return found ? { user: found.user, credential: { kind: 'api-token', id: found.tokenId } } : null;
    }
    let sub: string | undefined;
    let jti: string | undefined;
    try {
      ({ sub, jti } = (await jwtVerify(credential, this.deps.jwtSecret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] })).payload);
    } catch {
      return null;
    }
    if (!sub || !jti) return null;
    const user = await this.deps.users.userForSession(jti, sub);
    return user ? { user, credential: { kind: 'session', id: jti } } : null;
  }

  /** Sign-out: revokes the credential the request carried (its session, or the API token itself). */
  async logout(user: UserRow, credential: Credential): Promise<void> {
    if (credential.kind === 'session') await this.deps.users.revokeSession(user.id, credential.id);
    else await this.deps.users.revokeToken(user.id, credential.id);
    this.announceRevocation();
  }

  /** Called after every revocation on this replica (the live-log sockets re-check their tokens). */
  onRevoked(listener: () => void): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  private announceRevocation(): void {
    for (const listener of this.revocationListeners) listener();
  }

  listSessions(user: UserRow): Promise<SessionRow[]> {
    return this.deps.users.listSessions(user.id);
  }

  /** Signs one of the user's sessions out (another browser, a lost laptop). */
  async revokeSession(user: UserRow, sessionId: string): Promise<SessionRow> {
    const row = await this.deps.users.revokeSession(user.id, sessionId);
    if (!row) throw new SessionNotFound();
    this.announceRevocation();
    return row;
  }

  listTokens(user: UserRow): Promise<ApiTokenRow[]> {
    return this.deps.users.listTokens(user.id);
  }

  async revokeToken(user: UserRow, tokenId: string): Promise<ApiTokenRow> {
    const row = await this.deps.users.revokeToken(user.id, tokenId);
    if (!row) throw new TokenNotFound();
    this.announceRevocation();
    return row;
  }
}
