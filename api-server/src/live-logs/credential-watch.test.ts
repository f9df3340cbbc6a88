import { describe, expect, it } from 'vitest';
import { createLogger } from '@platform/logger';
import { CredentialWatch, type WatchedSocket } from './credential-watch.ts';

const socket = (token: string, userId: string) => {
  const s = { data: { token, userId }, disconnected: false, disconnect: () => (s.disconnected = true) };
  return s satisfies WatchedSocket;
};

describe('CredentialWatch', () => {
  it('disconnects the sockets whose credential no longer stands for their user, checking each credential once', async () => {
    const live = new Set(['good']);
    const asked: string[] = [];
    const sockets = [socket('good', 'u1'), socket('good', 'u1'), socket('revoked', 'u1'), socket('good', 'u2')];
    const watch = new CredentialWatch(
      {
        sockets: () => sockets,
        userFor: async (token) => {
          asked.push(token);
          return live.has(token) ? { id: 'u1' } : null;
        },
        logger: createLogger({ level: 'silent' }),
      },
      60_000,
    );
    await watch.kick();
    watch.stop();
    expect(asked.sort()).toEqual(['good', 'revoked']);
    expect(sockets.map((s) => s.disconnected)).toEqual([false, false, true, true]);
  });

  it('keeps sockets when the check itself fails, and runs once more when kicked during a check', async () => {
    let calls = 0;
    const s = socket('t', 'u1');
    const watch = new CredentialWatch(
      {
        sockets: () => [s],
        userFor: async () => {
          calls++;
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('database down');
        },
        logger: createLogger({ level: 'silent' }),
      },
      60_000,
    );
    const first = watch.kick();
    void watch.kick();
    void watch.kick();
    await first;
    await new Promise((r) => setTimeout(r, 60));
    watch.stop();
    expect(calls).toBe(2);
    expect(s.disconnected).toBe(false);
  });
});
