import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows max hits per window per key, then answers how long to wait', () => {
    let now = 1_000;
    const limiter = new RateLimiter({ max: 3, windowMs: 60_000, now: () => now });
    expect([limiter.hit('a'), limiter.hit('a'), limiter.hit('a')]).toEqual([0, 0, 0]);
    expect(limiter.hit('a')).toBe(60_000);
    expect(limiter.hit('b')).toBe(0);
    now += 30_000;
    expect(limiter.hit('a')).toBe(30_000);
    now += 30_000;
    expect(limiter.hit('a')).toBe(0);
  });
});
