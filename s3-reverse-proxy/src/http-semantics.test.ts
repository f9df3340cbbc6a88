import { describe, expect, it } from 'vitest';
import { encodingPreference, etagMatches, parseRange } from './http-semantics.ts';

describe('If-None-Match', () => {
  it('matches exact, weak, listed and * validators only', () => {
    expect(etagMatches('"a"', '"a"')).toBe(true);
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"x", "a"', '"a"')).toBe(true);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches('a', '"a"')).toBe(false);
    expect(etagMatches('', '"a"')).toBe(false);
  });
});

describe('Range', () => {
  it('parses the three single-range forms, clamped to the body', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=50-5000', 100)).toEqual({ start: 50, end: 99 });
  });

  it('reports unsatisfiable ranges and ignores malformed or multiple ones', () => {
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-0', 0)).toBe('unsatisfiable');
    for (const ignored of ['bytes=5-1', 'bytes=0-1,3-4', 'pages=1-2', 'bytes=a-b', 'bytes=-', 'bytes=99999999999999999999-']) {
      expect(parseRange(ignored, 100), ignored).toBeNull();
    }
  });
});

describe('Accept-Encoding', () => {
  it('reads q-values for br and gzip, and * for both', () => {
    expect(encodingPreference('gzip, deflate, br')).toEqual({ br: 1, gzip: 1 });
    expect(encodingPreference('gzip;q=0.8, br;q=0.5')).toEqual({ br: 0.5, gzip: 0.8 });
    expect(encodingPreference('br;q=0')).toEqual({ br: 0, gzip: 0 });
    expect(encodingPreference('*')).toEqual({ br: 1, gzip: 1 });
    expect(encodingPreference('*;q=0.1, gzip;q=0')).toEqual({ br: 0.1, gzip: 0 });
    expect(encodingPreference('identity')).toEqual({ br: 0, gzip: 0 });
    expect(encodingPreference(undefined)).toEqual({ br: 0, gzip: 0 });
    expect(encodingPreference('BR, X-GZIP')).toEqual({ br: 1, gzip: 1 });
  });
});
