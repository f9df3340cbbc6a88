import { describe, expect, it } from 'vitest';
import { FileCache } from './file-cache.ts';

const bytes = (n: number) => Buffer.alloc(n, 1);

describe('FileCache', () => {
  it('never holds more than its byte budget, nor files above the per-file limit', () => {
    const cache = new FileCache({ maxBytes: 1_000, maxFileBytes: 400 });
    for (let i = 0; i < 50; i++) cache.set(`k${i}`, bytes(300));
    expect(cache.stats().bytes).toBeLessThanOrEqual(1_000);
    expect(cache.stats().entries).toBe(3);
    cache.set('huge', bytes(401));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.accepts(400)).toBe(true);
    expect(cache.accepts(401)).toBe(false);
  });

  it('gives recently used entries a second chance over cold ones', () => {
    const cache = new FileCache({ maxBytes: 300, maxFileBytes: 300 });
    cache.set('hot', bytes(100));
    cache.set('cold1', bytes(100));
    cache.set('cold2', bytes(100));
    expect(cache.get('hot')).toBeDefined();
    cache.set('new', bytes(100));
    expect(cache.get('hot')).toBeDefined();
    expect(cache.get('cold1')).toBeUndefined();
    expect(cache.get('new')).toBeDefined();
    expect(cache.stats().bytes).toBe(300);
  });

  it('returns the very buffer it stored', () => {
    const cache = new FileCache({ maxBytes: 100, maxFileBytes: 100 });
    const b = Buffer.from('hello');
    cache.set('a', b);
    expect(cache.get('a')).toBe(b);
  });
});
