import type { Request, RequestHandler } from 'express';
import { HttpError } from './errors.ts';

/** The real client address: what the platform's own proxy saw, never what a client claims. */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** A login attempt's key: the account it names and the address it comes from. */
export function accountAndAddress(req: Request): string {
  const email: unknown = (req.body as { email?: unknown } | undefined)?.email;
  return `${typeof email === 'string' ? email.trim().toLowerCase() : ''}\n${clientAddress(req)}`;
}

/**
 * Fixed-window request counter per key (a client address, an account and address), in memory (per replica). Enough to blunt
 * password guessing and webhook floods; a shared limit across replicas would need the DB.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly options: { max: number; windowMs: number; now?: () => number }) {}

  /** Counts one hit; returns the ms until the window resets when over the limit, else 0. */
  hit(key: string): number {
    const now = (this.options.now ?? Date.now)();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.options.windowMs) {
      if (this.windows.size > 100_000) this.sweep(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    return w.count > this.options.max ? w.start + this.options.windowMs - now : 0;
  }

  /**
   * Counts the request under `keyOf(req)`: by default the client address (`req.ip`, which is
   * the socket's peer unless that peer is a trusted proxy; see trust-proxy.ts). Over the
   * limit: 429 with Retry-After.
   */
  middleware(name: string, keyOf: (req: Request) => string = clientAddress): RequestHandler {
    return (req, res, next) => {
      const waitMs = this.hit(keyOf(req));
      if (waitMs === 0) return next();
      res.setHeader('Retry-After', String(Math.ceil(waitMs / 1000)));
      next(new HttpError(429, 'rate_limited', `too many ${name} requests; retry in ${Math.ceil(waitMs / 1000)} s`));
    };
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.options.windowMs) this.windows.delete(key);
  }
}
