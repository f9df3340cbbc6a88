import type { ApiToken, SignInSession, User } from '@platform/contracts';
import { iso } from '../http/iso.ts';
import type { Credential } from './auth-service.ts';
import type { ApiTokenRow, SessionRow, UserRow } from './auth-repo.ts';

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

export const presentSession = (row: SessionRow, current: Credential): SignInSession => ({
  id: row.id,
  createdAt: iso(row.created_at)!,
  expiresAt: iso(row.expires_at)!,
  revokedAt: iso(row.revoked_at),
  current: current.kind === 'session' && current.id === row.id,
});
