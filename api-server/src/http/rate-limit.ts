import type { RequestHandler } from 'express';
import { HttpError } from './errors.ts';

/**
 * Fixed-window request counter per client address, in memory (per replica). Enough to blunt
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

  middleware(name: string): RequestHandler {
    return (req, res, next) => {
      const waitMs = this.hit(req.ip ?? req.socket.remoteAddress ?? 'unknown');
      if (waitMs === 0) return next();
      res.setHeader('Retry-After', String(Math.ceil(waitMs / 1000)));
      next(new HttpError(429, 'rate_limited', `too many ${name} requests; retry in ${Math.ceil(waitMs / 1000)} s`));
    };
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.options.windowMs) this.windows.delete(key);
  }
}
