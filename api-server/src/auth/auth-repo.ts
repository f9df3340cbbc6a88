import { randomId } from '@platform/contracts';
import type { Db } from '@platform/db';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  created_at: Date;
}

export interface ApiTokenRow {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export class UsersRepo {
  constructor(private readonly db: Db) {}

  /** Null when the email is taken. */
  async create(email: string, passwordHash: string): Promise<UserRow | null> {
    const rows = await this.db.query<UserRow>(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING RETURNING *`, [
      `usr_${randomId(16)}`,
      email,
      passwordHash,
    ]);
    return rows[0] ?? null;
  }

  /**
   * Creates the account only if there is no other (single-user mode). The table lock makes two
   * first sign-ups at once end with one account. Null when an account exists already.
   */
  async createFirst(email: string, passwordHash: string): Promise<UserRow | null> {
    return this.db.transaction(async (tx) => {
      await tx.query('LOCK TABLE users IN EXCLUSIVE MODE');
      const rows = await tx.query<UserRow>(
        `INSERT INTO users (id, email, password_hash) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM users) RETURNING *`,
        [`usr_${randomId(16)}`, email, passwordHash],
      );
      return rows[0] ?? null;
    });
  }

  async get(id: string): Promise<UserRow | null> {
    return (await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]))[0] ?? null;
  }

  async getByEmail(email: string): Promise<UserRow | null> {
    return (await this.db.query<UserRow>('SELECT * FROM users WHERE email = $1', [email]))[0] ?? null;
  }

  async createToken(input: { userId: string; name: string; tokenHash: string; prefix: string; expiresAt: Date | null }): Promise<ApiTokenRow> {
    const rows = await this.db.query<ApiTokenRow>(
      `INSERT INTO api_tokens (id, user_id, name, token_hash, token_prefix, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [`tok_${randomId(16)}`, input.userId, input.name, input.tokenHash, input.prefix, input.expiresAt],
    );
    return rows[0]!;
  }

  /**
   * The user a live (not revoked, not expired) token belongs to, and the token's id; marks the
   * token used unless `touch` is false (an open socket's re-check is no new use).
   */
  async userForToken(tokenHash: string, touch = true): Promise<{ user: UserRow; tokenId: string } | null> {
    const live = 'token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())';
    const rows = await this.db.query<UserRow & { used_token_id: string }>(
      touch
        ? `WITH used AS (UPDATE api_tokens SET last_used_at = now() WHERE ${live} RETURNING id, user_id)
           SELECT users.*, used.id AS used_token_id FROM users JOIN used ON used.user_id = users.id`
        : `SELECT users.*, api_tokens.id AS used_token_id FROM api_tokens JOIN users ON users.id = api_tokens.user_id WHERE ${live}`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return null;
    const { used_token_id: tokenId, ...user } = row;
    return { user, tokenId };
  }

  /** A new sign-in session of the user, good until `expiresAt`; returns its id. The user's sessions expired over a day ago are forgotten. */
  async createSession(userId: string, expiresAt: Date): Promise<string> {
    const id = `ses_${randomId(20)}`;
    await this.db.query("DELETE FROM sessions WHERE user_id = $1 AND expires_at < now() - interval '1 day'", [userId]);
    await this.db.query('INSERT INTO sessions (id, user_id, expires_at) VALUES ($1, $2, $3)', [id, userId, expiresAt]);
    return id;
  }

  /** The user's sessions that have not expired, newest first (revoked ones included, marked). */
  async listSessions(userId: string): Promise<SessionRow[]> {
    return this.db.query<SessionRow>('SELECT * FROM sessions WHERE user_id = $1 AND expires_at > now() ORDER BY created_at DESC, id LIMIT 500', [userId]);
  }

  /** The user of a live (not revoked, not expired) session of `userId`. */
  async userForSession(sessionId: string, userId: string): Promise<UserRow | null> {
    const rows = await this.db.query<UserRow>(
      `SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id
       WHERE sessions.id = $1 AND sessions.user_id = $2 AND sessions.revoked_at IS NULL AND sessions.expires_at > now()`,
      [sessionId, userId],
    );
    return rows[0] ?? null;
  }

  /** Revokes a session of the user; null when there is no such session. */
  async revokeSession(userId: string, sessionId: string): Promise<SessionRow | null> {
    const rows = await this.db.query<SessionRow>('UPDATE sessions SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND user_id = $2 RETURNING *', [
      sessionId,
      userId,
    ]);
    return rows[0] ?? null;
  }

  async listTokens(userId: string): Promise<ApiTokenRow[]> {
    return this.db.query<ApiTokenRow>('SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id', [userId]);
  }

  async revokeToken(userId: string, tokenId: string): Promise<ApiTokenRow | null> {
    const rows = await this.db.query<ApiTokenRow>(`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND user_id = $2 RETURNING *`, [
      tokenId,
      userId,
    ]);
    return rows[0] ?? null;
  }
}
