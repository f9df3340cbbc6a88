import { describe, expect, it } from 'vitest';
import { compilePattern, encodePathValue, matchPattern, PatternError, substitute } from './pattern.ts';

const match = (source: string, path: string) => {
  const m = matchPattern(compilePattern(source), path);
  return m ? { groups: m.groups, named: Object.fromEntries(m.named) } : null;
};

describe('vercel.json source patterns', () => {
  it('matches one segment with :name, exactly and case-sensitively', () => {
    expect(match('/blog/:slug', '/blog/hello')).toEqual({ groups: ['hello'], named: { slug: 'hello' } });
    expect(match('/blog/:slug', '/blog/hello/more')).toBeNull();
    expect(match('/blog/:slug', '/blog/')).toBeNull();
    expect(match('/blog/:slug', '/Blog/hello')).toBeNull();
    expect(match('/blog/:slug', '/blog/hello/')).toBeNull();
  });

  it('spans segments with :name* and :name+, the leading slash optional for *', () => {
    expect(match('/docs/:path*', '/docs/a/b/c')?.named).toEqual({ path: 'a/b/c' });
    expect(match('/docs/:path*', '/docs')?.named).toEqual({ path: '' });
    expect(match('/docs/:path+', '/docs')).toBeNull();
    expect(match('/docs/:path+', '/docs/a/b')?.named).toEqual({ path: 'a/b' });
    expect(match('/:path*', '/')?.named).toEqual({ path: '' });
    expect(match('/:path*', '/x/y')?.named).toEqual({ path: 'x/y' });
  });

  it('supports optional parameters, custom patterns, unnamed groups and braces', () => {
    expect(match('/:lang?/about', '/about')?.named).toEqual({ lang: '' });
    expect(match('/:lang?/about', '/fr/about')?.named).toEqual({ lang: 'fr' });
    expect(match('/user/:id(\\d+)', '/user/42')?.named).toEqual({ id: '42' });
    expect(match('/user/:id(\\d+)', '/user/abc')).toBeNull();
    expect(match('/(.*)', '/anything/at/all')?.groups).toEqual(['anything/at/all']);
    expect(match('/assets/(.*)\\.js', '/assets/app.js')?.groups).toEqual(['app']);
    expect(match('/files{/:name}?', '/files')?.named).toEqual({ name: '' });
    expect(match('/files{/:name}?', '/files/a')?.named).toEqual({ name: 'a' });
    expect(match('/:path((?!api).*)', '/api/x')).toBeNull();
    expect(match('/:path((?!api).*)', '/page')?.named).toEqual({ path: 'page' });
  });

  it('treats regex characters outside groups as literals', () => {
    expect(match('/a.b', '/a.b')).not.toBeNull();
    expect(match('/a.b', '/axb')).toBeNull();
    expect(match('/price$', '/price$')).not.toBeNull();
  });

  it('refuses patterns it cannot honour', () => {
    for (const bad of ['blog', '/(unclosed', '/:', '/x)', '/:id((\\d+))', '/{a']) {
      expect(() => compilePattern(bad), bad).toThrow(PatternError);
    }
  });

  it('fills destinations from names and positions', () => {
    const m = matchPattern(compilePattern('/old/:year/(.*)'), '/old/2024/a b/c')!;
    expect(substitute('/new/:year/$2', m, encodePathValue)).toBe('/new/2024/a%20b/c');
    expect(substitute('/new/:year/$2', m, (v) => v)).toBe('/new/2024/a b/c');
    expect(substitute('https://example.com:8080/:year?x=:missing', m, encodePathValue)).toBe('https://example.com:8080/2024?x=:missing');
  });
});
