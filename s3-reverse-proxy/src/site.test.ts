import { describe, expect, it } from 'vitest';
import type { Manifest } from '@platform/contracts';
import { Site } from './site.ts';

const file = (path: string) => ({ size: 1, hash: path.replace(/\W/g, ''), contentType: 'text/html', cacheControl: 'public, max-age=0' });
const manifest = (routing?: Manifest['routing']): Manifest => ({
  version: 1,
  deploymentId: 'site1',
  createdAt: '2026-11-27T00:00:00Z',
  files: { 'index.html': file('index.html'), 'a.html': file('a.html'), '404.html': file('404.html') },
  ...(routing ? { routing } : {}),
});

describe('Site', () => {
  it('shares one precomputed answer among all paths that resolve to the same file', () => {
    const site = new Site(manifest());
    const a = site.resolve('/x', true);
    const b = site.resolve('/y/z', true);
    expect(a.kind).toBe('file');
    expect(a).toBe(b);
    expect(site.resolve('/missing-1', false)).toBe(site.resolve('/missing-2', false));
    expect(site.resolve('/a', false)).toBe(site.resolve('/a.html', false));
  });

  it('memoises by raw path, and not bad or very long paths', () => {
    const site = new Site(manifest());
    expect(site.resolve('/a', false)).toBe(site.resolve('/a', false));
    expect(site.resolve('/%2e%2e/x', false)).toEqual({ kind: 'bad-path', status: 400 });
    expect(site.resolve(`/${'x'.repeat(3000)}`, false)).toEqual({ kind: 'bad-path', status: 414 });
    // Long paths are resolved every time (not remembered), the same way.
    const long = `/${'y'.repeat(300)}/`;
    const slashless = new Site(manifest({ cleanUrls: false, trailingSlash: false, redirects: [], rewrites: [], headers: [] }));
    const first = slashless.resolve(long, false);
    expect(first).toMatchObject({ kind: 'redirect', status: 308, location: long.slice(0, -1) });
    expect(slashless.resolve(long, false)).not.toBe(first);
    expect(slashless.resolve('/short/', false)).toBe(slashless.resolve('/short/', false));
  });

  it('reports rules it cannot serve and keeps the rest', () => {
    const site = new Site(
      manifest({
        cleanUrls: false,
        redirects: [
          { source: '/(bad', destination: '/', statusCode: 308 },
          { source: '/ok', destination: '/a', statusCode: 308 },
        ],
        rewrites: [{ source: '/ext', destination: 'https://elsewhere.example/' }],
        headers: [],
      }),
    );
    expect(site.problems).toHaveLength(2);
    expect(site.resolve('/ok', false)).toMatchObject({ kind: 'redirect', status: 308, location: '/a' });
    expect(site.resolve('/ext', false)).toMatchObject({ kind: 'file', status: 404 });
  });

  it("applies Netlify's rule kinds: a redirect without ! yields to a file, 200! rewrites over one, a query captures", () => {
    const site = new Site(
      manifest({
        cleanUrls: false,
        redirects: [
          { source: '/a', destination: '/elsewhere', statusCode: 302, unlessFileExists: true },
          { source: '/gone', destination: '/new', statusCode: 301, unlessFileExists: true },
          { source: '/store', destination: '/item/:id', statusCode: 301, has: [{ type: 'query', key: 'id', value: '(?<id>.*)' }] },
        ],
        rewrites: [{ source: '/index.html', destination: '/a.html', force: true }],
        headers: [],
      }),
    );
    expect(site.resolve('/a', false)).toMatchObject({ kind: 'file', path: 'a.html' });
    expect(site.resolve('/gone', false)).toMatchObject({ kind: 'redirect', status: 301, location: '/new' });
    expect(site.resolve('/index.html', false)).toMatchObject({ kind: 'file', path: 'a.html' });
    expect(site.resolve('/store', false, { host: 'x', query: 'id=42', headers: {} })).toMatchObject({ kind: 'redirect', location: '/item/42' });
    expect(site.resolve('/store', false, { host: 'x', query: '', headers: {} })).toMatchObject({ kind: 'file', status: 404 });
  });
});
