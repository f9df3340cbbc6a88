import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { http } from '@platform/testing/http';
import { startPlatform, type Platform } from '@platform/testing/platform';

const PASSWORD = 'correct horse battery staple';
const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** A live-log socket on `base` authenticated with `token`, connected and subscribed to `deploymentId`. */
async function subscribedSocket(base: string, token: string, deploymentId: string): Promise<Socket> {
  const socket = io(base, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const ack = await socket.timeout(5_000).emitWithAck('subscribe', { deploymentId, afterSeq: 0 });
  expect(ack.ok).toBe(true);
  return socket;
}

/** Ms from now until the socket is disconnected by the server (rejects after `withinMs`). */
function disconnectedWithin(socket: Socket, withinMs: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still connected after ${withinMs} ms`)), withinMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      expect(reason).toBe('io server disconnect');
      resolve(Date.now() - start);
    });
  });
}

// Sign-out and token revocation hold at once: on REST, and on the live-log sockets of this
// replica (at the revocation) and of another one (its 1 s re-check).
describe('revocable sessions', () => {
  let platform: Platform;
  let deploymentId: string;
  const login = async () =>
    (await http(platform.api, 'POST', '/auth/login', { email: 'owner@example.test', password: PASSWORD }, { authorization: '' })).json.accessToken as string;

  beforeAll(async () => {
    platform = await startPlatform({ runner: 'idle', replicas: 2 });
    ({ deploymentId } = await platform.createDeployment());
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('signing out revokes that session only, at once', async () => {
    const [a, b] = [await login(), await login()];
    expect((await http(platform.api, 'GET', '/auth/me', undefined, as(a))).status).toBe(200);
    const out = await http(platform.api, 'POST', '/auth/logout', undefined, as(a));
    expect(out.status).toBe(204);
    for (const replica of platform.replicas) {
      const me = await http(replica.url, 'GET', '/auth/me', undefined, as(a));
      expect(me.status).toBe(401);
      expect(me.json.error.code).toBe('invalid_token');
      expect((await http(replica.url, 'GET', '/projects', undefined, as(a))).status).toBe(401);
    }
    // Another session of the same account is untouched; signing out twice is a 401.
    expect((await http(platform.api, 'GET', '/auth/me', undefined, as(b))).status).toBe(200);
    expect((await http(platform.api, 'POST', '/auth/logout', undefined, as(a))).status).toBe(401);
  });

  it('lists the sessions, marks the current one, and signs another one out', async () => {
    const [here, lost] = [await login(), await login()];
    const listed = (await http(platform.api, 'GET', '/auth/sessions', undefined, as(here))).json.sessions as {
      id: string;
      current: boolean;
      revokedAt: string | null;
    }[];
    const current = listed.filter((s) => s.current);
    expect(current).toHaveLength(1);
    const lostId = JSON.parse(Buffer.from(lost.split('.')[1]!, 'base64url').toString()).jti as string;
    expect(listed.map((s) => s.id)).toContain(lostId);
    // A stranger cannot see or revoke them.
    const stranger = (await platform.signup('session-stranger@example.test')).token;
    expect((await http(platform.api, 'GET', '/auth/sessions', undefined, as(stranger))).json.sessions.map((s: { id: string }) => s.id)).not.toContain(lostId);
    const refused = await http(platform.api, 'DELETE', `/auth/sessions/${lostId}`, undefined, as(stranger));
    expect(refused.status).toBe(404);
    expect((await http(platform.api, 'GET', '/auth/me', undefined, as(lost))).status).toBe(200);
    // The owner signs the lost laptop out.
    const revoked = await http(platform.api, 'DELETE', `/auth/sessions/${lostId}`, undefined, as(here));
    expect(revoked.status).toBe(200);
    expect(revoked.json.session).toMatchObject({ id: lostId, current: false });
    expect(revoked.json.session.revokedAt).not.toBeNull();
    expect((await http(platform.api, 'GET', '/auth/me', undefined, as(lost))).status).toBe(401);
    expect((await http(platform.api, 'GET', '/auth/me', undefined, as(here))).status).toBe(200);
  });

  it('signing out with an API token revokes that token', async () => {
    const secret = (await http(platform.api, 'POST', '/auth/tokens', { name: 'script' })).json.secret as string;
    expect((await http(platform.api, 'GET', '/auth/me', undefined, as(secret))).status).toBe(200);
    expect((await http(platform.api, 'POST', '/auth/logout', undefined, as(secret))).status).toBe(204);
    expect((await http(platform.api, 'GET', '/auth/me', undefined, as(secret))).status).toBe(401);
    const listed = (await http(platform.api, 'GET', '/auth/tokens')).json.tokens as { name: string; revokedAt: string | null }[];
    expect(listed.find((t) => t.name === 'script')?.revokedAt).not.toBeNull();
  });

  it("disconnects a revoked API token's sockets within a second, on this replica and another", async () => {
    const created = (await http(platform.api, 'POST', '/auth/tokens', { name: 'live' })).json;
    const here = await subscribedSocket(platform.replicas[0]!.url, created.secret, deploymentId);
    const there = await subscribedSocket(platform.replicas[1]!.url, created.secret, deploymentId);
    const other = await subscribedSocket(platform.replicas[1]!.url, platform.token, deploymentId);
    try {
      const gone = [disconnectedWithin(here, 1_000), disconnectedWithin(there, 1_000)];
      expect((await http(platform.api, 'DELETE', `/auth/tokens/${created.token.id}`)).status).toBe(200);
      const [hereMs, thereMs] = await Promise.all(gone);
      expect(hereMs).toBeLessThan(1_000);
      expect(thereMs).toBeLessThan(1_000);
      expect((await http(platform.api, 'GET', '/auth/me', undefined, as(created.secret))).status).toBe(401);
      // The owner's own session socket stays.
      await new Promise((r) => setTimeout(r, 1_200));
      expect(other.connected).toBe(true);
      // A revoked token cannot open a new socket either.
      const again = io(platform.api, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token: created.secret } });
      const error = await new Promise<Error>((resolve) => again.once('connect_error', resolve));
      expect(error.message).toMatch(/unauthenticated/);
      again.close();
    } finally {
      for (const s of [here, there, other]) s.close();
    }
  });

  it("disconnects a signed-out session's socket within a second", async () => {
    const token = await login();
    const socket = await subscribedSocket(platform.replicas[1]!.url, token, deploymentId);
    try {
      const gone = disconnectedWithin(socket, 1_000);
      expect((await http(platform.replicas[0]!.url, 'POST', '/auth/logout', undefined, as(token))).status).toBe(204);
      expect(await gone).toBeLessThan(1_000);
    } finally {
      socket.close();
    }
  });
});
