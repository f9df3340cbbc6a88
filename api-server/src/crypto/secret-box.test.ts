import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box.ts';
import { safeEqual } from './tokens.ts';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a value and never stores it in clear', () => {
    const sealed = box.seal('hunter2-very-secret', 'env:p:K:production');
    expect(sealed).not.toContain('hunter2');
    expect(Buffer.from(sealed.slice(3), 'base64').toString('latin1')).not.toContain('hunter2');
    expect(box.open(sealed, 'env:p:K:production')).toBe('hunter2-very-secret');
  });

  it('uses a fresh IV each time', () => {
    expect(box.seal('same', 'c')).not.toBe(box.seal('same', 'c'));
  });

  it('refuses a ciphertext moved to another row, tampered with, or opened with another key', () => {
    const sealed = box.seal('value', 'env:p1:K:production');
    expect(() => box.open(sealed, 'env:p2:K:production')).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`v1:${raw.toString('base64')}`, 'env:p1:K:production')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'env:p1:K:production')).toThrow();
    expect(() => box.open('v1:AAAA', 'x')).toThrow(/truncated/);
  });
});

describe('safeEqual', () => {
  it('compares strings of any length', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
