import type { Logger } from '@platform/logger';

/** A connected socket as the watch sees it: the credential of its handshake and its user. */
export interface WatchedSocket {
  data: { token?: string; userId?: string };
  disconnect(close: boolean): unknown;
}

/**
 * Keeps open sockets honest after their credential is revoked or expires: every `intervalMs`
 * (revocations on other replicas), and at once when this replica revokes one (`kick`), each
 * distinct credential of the open sockets is checked again; a socket whose credential no
 * longer stands for its user is disconnected. A failed check (database down) keeps the socket.
 */
export class CredentialWatch {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly deps: {
      sockets: () => Iterable<WatchedSocket>;
      userFor: (token: string) => Promise<{ id: string } | null>;
      logger: Logger;
    },
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  /** Re-checks now; a kick while a check runs starts one more right after it. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.checkAll().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.kick();
      }
    });
    return this.running;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async checkAll(): Promise<void> {
    const byToken = new Map<string, WatchedSocket[]>();
    for (const socket of this.deps.sockets()) {
      const token = socket.data.token;
      if (token === undefined) continue;
      const list = byToken.get(token);
      if (list) list.push(socket);
      else byToken.set(token, [socket]);
    }
    for (const [token, sockets] of byToken) {
      let user: { id: string } | null;
      try {
        user = await this.deps.userFor(token);
      } catch (err) {
        this.deps.logger.warn({ err }, 're-checking a live-log socket credential failed; kept for now');
        continue;
      }
      for (const socket of sockets) if (!user || user.id !== socket.data.userId) socket.disconnect(true);
    }
  }
}
