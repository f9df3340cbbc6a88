import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllHeaders } from '@netlify/headers-parser';
import { parseAllRedirects } from '@netlify/redirect-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestKey, manifestSchema } from '@platform/contracts';
import { buildRepo } from '@platform/testing/build';
import { removeTempDirs, repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { compileNetlifyRules, netlifyPathToPattern, parseHeadersFile, parseRedirectsFile } from './netlify-rules.ts';

afterAll(removeTempDirs);

const REDIRECTS = `# Netlify _redirects, every form this platform reads
/news/*            /blog/:splat            302
/store  id=:id     /blog/:id               301!
/search q=docs     /docs                   307
/app/*             /index.html             200
/legacy            https://example.com/new
/private           /login                  302  Cookie=session,token
/api/*             https://api.example.com/:splat  200
/uk                /gb                     302  Country=gb
/gone              /404.html               404

/blog/:year/:slug  /posts/:slug            301   # trailing comment
`;

const HEADERS = `/*
  X-Frame-Options: DENY
  Link: </a.css>; rel=preload
  Link: </b.js>; rel=preload
# a comment
/assets/*
  Cache-Control: public, max-age=31536000, immutable
/blog/:slug
  X-Slug: yes
`;

/** The vendor's parser on the same text, from a file as Netlify reads it. */
async function oracle(redirects: string, headers: string) {
  const dir = tempDir('netlify');
  writeFileSync(join(dir, '_redirects'), redirects);
  writeFileSync(join(dir, '_headers'), headers);
  const r = await parseAllRedirects({ redirectsFiles: [join(dir, '_redirects')], configRedirects: [], minimal: true });
  const h = await parseAllHeaders({ headersFiles: [join(dir, '_headers')], configHeaders: [], minimal: true });
  return { redirects: r.redirects as Record<string, unknown>[], headers: h.headers, errors: [...r.errors, ...h.errors] };
}

describe('Netlify _redirects and _headers, against @netlify/redirect-parser and @netlify/headers-parser', () => {
  it('parses every rule as the vendor parsers do', async () => {
    const expected = await oracle(REDIRECTS, HEADERS);
    expect(expected.errors).toEqual([]);
    const ours = parseRedirectsFile(REDIRECTS);
    expect(ours.problems).toEqual([]);
    // The vendor splits some condition values into lists and leaves a missing status for its default (301) to fill in later.
    const joined = (conditions: unknown) =>
      Object.fromEntries(Object.entries(conditions as Record<string, string | string[]>).map(([k, v]) => [k, [v].flat().join(',')]));
    expect(ours.rules.map(({ line: _line, ...rule }) => ({ ...rule, conditions: joined(rule.conditions) }))).toEqual(
      expected.redirects.map(({ headers: _h, ...rule }) => ({ ...rule, status: rule.status ?? 301, conditions: joined(rule.conditions) })),
    );
    const headers = parseHeadersFile(HEADERS);
    expect(headers.problems).toEqual([]);
    expect(headers.rules).toEqual(expected.headers);
  });

  it('compiles them into manifest rules and lists, line by line, what it cannot serve', () => {
    const compiled = compileNetlifyRules(parseRedirectsFile(REDIRECTS), parseHeadersFile(HEADERS));
    expect(compiled.redirects).toEqual([
      { source: '/news/:splat*', destination: '/blog/:splat', statusCode: 302, unlessFileExists: true },
      { source: '/store', destination: '/blog/:id', statusCode: 301, has: [{ type: 'query', key: 'id', value: '(?<id>.*)' }] },
      { source: '/search', destination: '/docs', statusCode: 307, has: [{ type: 'query', key: 'q', value: 'docs' }], unlessFileExists: true },
      { source: '/legacy', destination: 'https://example.com/new', statusCode: 301, unlessFileExists: true },
      {
        source: '/private',
        destination: '/login',
        statusCode: 302,
        has: [
          { type: 'cookie', key: 'session' },
          { type: 'cookie', key: 'token' },
        ],
        unlessFileExists: true,
      },
      { source: '/blog/:year/:slug', destination: '/posts/:slug', statusCode: 301, unlessFileExists: true },
    ]);
    expect(compiled.rewrites).toEqual([{ source: '/app/:splat*', destination: '/index.html' }]);
    expect(compiled.headers).toEqual([
      {
        source: '/:splat*',
        headers: [
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'Link', value: '</a.css>; rel=preload, </b.js>; rel=preload' },
        ],
      },
      { source: '/assets/:splat*', headers: [{ key: 'Cache-Control', value: 'public, max-age=31536000, immutable' }] },
      { source: '/blog/:slug', headers: [{ key: 'X-Slug', value: 'yes' }] },
    ]);
    expect(compiled.unsupported).toEqual([
      '_redirects line 8: /api/* https://api.example.com/:splat 200: a 200 rewrite to another site (proxying) is not supported',
      '_redirects line 9: /uk /gb 302: conditions Country are not supported',
      '_redirects line 10: /gone /404.html 404: status 404 is not supported (only 200 rewrites and 301, 302, 303, 307, 308 redirects)',
    ]);
  });

  it('keeps characters that mean something to the pattern compiler literal', () => {
    expect(netlifyPathToPattern('/a(b)/c?d+e')).toBe('/a\\(b\\)/c\\?d\\+e');
    expect(netlifyPathToPattern('/*')).toBe('/:splat*');
    expect(netlifyPathToPattern('/files/report*')).toBe('/files/report:splat*');
  });

  it('reports a line it does not understand instead of dropping it', () => {
    expect(parseRedirectsFile('nonsense\n/a\n/b /c 302 oops').problems).toEqual([
      'line 1: "nonsense" is not a path',
      'line 2: no destination',
      'line 3: "oops" is not understood',
    ]);
    expect(parseHeadersFile('  X-A: b\n/x\n  no colon').problems).toEqual(['line 1: a header before any path', 'line 3: "no colon" is not "Name: value"']);
  });
});

describe('a build whose output has Netlify rule files', () => {
  it('compiles them into the manifest after vercel.json, logs what is not applied, and does not publish them', async () => {
    const repo = repoFromFixture(null, {
      'index.html': '<h1>home</h1>',
      'vercel.json': JSON.stringify({ redirects: [{ source: '/v', destination: '/' }] }),
      _redirects: '/n  /  302\n/gone /404.html 404\n',
      _headers: '/*\n  X-From-Netlify: 1\n',
    });
    const build = await buildRepo(repo);
    expect(build.result, build.text).toBe('READY');
    expect(build.text).toContain('Read _redirects and _headers: 1 redirects, 0 rewrites, 1 header rules');
    expect(build.text).toContain('Not applied: _redirects line 2: /gone /404.html 404: status 404 is not supported');
    const manifest = manifestSchema.parse(JSON.parse((await build.store.getBuffer(manifestKey(build.task.deploymentId)))!.toString()));
    expect(manifest.routing?.redirects.map((r) => r.source)).toEqual(['/v', '/n']);
    expect(manifest.routing?.headers).toEqual([{ source: '/:splat*', headers: [{ key: 'X-From-Netlify', value: '1' }] }]);
    expect(Object.keys(manifest.files).sort()).toEqual(['index.html']);
  });

  it('refuses a _redirects that links out of the repository', async () => {
    const repo = repoFromFixture(null, { 'index.html': 'x' });
    const { symlinkSync } = await import('node:fs');
    const { gitCommitAll } = await import('@platform/testing/fixtures');
    const outside = join(tempDir('outside'), 'secret');
    writeFileSync(outside, '/a /b 302');
    symlinkSync(outside, join(repo, '_redirects'));
    gitCommitAll(repo, 'link');
    const build = await buildRepo(repo);
    expect(build.result).toBe('ERROR');
    expect(build.final.detail).toContain('_redirects: _redirects is a link to a file outside the repository');
  });
});
