import { describe, expect, it } from 'vitest';
import { cachePolicyFor, contentTypeFor, IMMUTABLE, isCompressible, REVALIDATE } from './content-types.ts';

describe('contentTypeFor', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['assets/app.JS', 'text/javascript; charset=utf-8'],
    ['a/b/style.css', 'text/css; charset=utf-8'],
    ['chunk.mjs', 'text/javascript; charset=utf-8'],
    ['data.json', 'application/json; charset=utf-8'],
    ['app.js.map', 'application/json; charset=utf-8'],
    ['site.webmanifest', 'application/manifest+json; charset=utf-8'],
    ['feed.xml', 'application/xml; charset=utf-8'],
    ['robots.txt', 'text/plain; charset=utf-8'],
    ['logo.svg', 'image/svg+xml; charset=utf-8'],
    ['photo.jpeg', 'image/jpeg'],
    ['photo.webp', 'image/webp'],
    ['photo.avif', 'image/avif'],
    ['favicon.ico', 'image/x-icon'],
    ['font.woff2', 'font/woff2'],
    ['module.wasm', 'application/wasm'],
    ['clip.mp4', 'video/mp4'],
    ['song.mp3', 'audio/mpeg'],
    ['doc.pdf', 'application/pdf'],
    ['.well-known/apple-app-site-association', 'application/json'],
  ])('%s → %s', (path, type) => expect(contentTypeFor(path)).toBe(type));

  it('falls back to application/octet-stream for unknown or missing extensions and dotfiles', () => {
    expect(contentTypeFor('file.unknownext')).toBe('application/octet-stream');
    expect(contentTypeFor('LICENSE')).toBe('application/octet-stream');
    expect(contentTypeFor('.hidden')).toBe('application/octet-stream');
  });
});

describe('isCompressible', () => {
  it('is true for text, JSON, XML, SVG and wasm, false for already compressed media', () => {
    for (const t of ['text/html; charset=utf-8', 'text/css', 'application/json', 'application/manifest+json', 'image/svg+xml', 'application/wasm'])
      expect(isCompressible(t)).toBe(true);
    for (const t of ['image/png', 'image/webp', 'font/woff2', 'video/mp4', 'application/zip', 'application/octet-stream'])
      expect(isCompressible(t)).toBe(false);
  });
});

describe('cachePolicyFor', () => {
  it('revalidates HTML, even with a hash-like name', () => {
    expect(cachePolicyFor('index.html', 'text/html; charset=utf-8')).toBe(REVALIDATE);
    expect(cachePolicyFor('page.3f9a1c2b.html', 'text/html; charset=utf-8')).toBe(REVALIDATE);
  });
  it.each([
    'assets/index-DaUXYGij.css', // Vite, base64 hash without digits
    'assets/index-B9x_k2-a.js', // Vite, hash with "-" and "_"
    'static/js/main.3f9a1c2b.js', // CRA
    'assets/js/main.8e1d2c3b.js', // Docusaurus
    'app-5e1f9a0c7b2d4e6f8a9b.js', // Gatsby
    '_next/static/chunks/pages/index.js', // Next.js
    '_astro/hoisted.BXy1.js',
    '_app/immutable/entry/start.js', // SvelteKit
  ])('caches hashed asset %s forever', (path) => expect(cachePolicyFor(path, 'text/javascript')).toBe(IMMUTABLE));
  it.each(['app.js', 'assets/logo.png', 'my-component.js', 'Overview-Page.js', 'robots.txt', 'data.json'])('revalidates unhashed %s', (path) =>
    expect(cachePolicyFor(path, 'text/javascript')).toBe(REVALIDATE),
  );
});
