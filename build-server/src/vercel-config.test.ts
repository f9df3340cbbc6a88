import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { routingConfigSchema } from '@platform/contracts';
import { removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { compileVercelConfig, readVercelConfig, VercelConfigError } from './vercel-config.ts';

afterAll(removeTempDirs);

describe('vercel.json', () => {
  it('compiles the static-host subset into the manifest routing config', () => {
    const config = compileVercelConfig({
      $schema: 'https://openapi.vercel.sh/vercel.json',
      cleanUrls: true,
      trailingSlash: false,
      redirects: [
        { source: '/old', destination: '/new' },
        { source: '/tmp/:slug', destination: '/posts/:slug', permanent: false },
        { source: '/docs/(.*)', destination: 'https://docs.example.com/$1', statusCode: 301 },
      ],
      rewrites: [{ source: '/app/(.*)', destination: '/index.html' }],
      headers: [{ source: '/assets/(.*)', headers: [{ key: 'X-Frame-Options', value: 'DENY' }] }],
    });
    expect(config.routing).toEqual({
      cleanUrls: true,
      trailingSlash: false,
      redirects: [
        { source: '/old', destination: '/new', statusCode: 308 },
        { source: '/tmp/:slug', destination: '/posts/:slug', statusCode: 307 },
        { source: '/docs/(.*)', destination: 'https://docs.example.com/$1', statusCode: 301 },
      ],
      rewrites: [{ source: '/app/(.*)', destination: '/index.html' }],
      headers: [{ source: '/assets/(.*)', headers: [{ key: 'X-Frame-Options', value: 'DENY' }] }],
    });
    // What the proxy reads parses with the shared contract.
    expect(routingConfigSchema.parse(config.routing)).toEqual(config.routing);
    expect(config.ignoredKeys).toEqual([]);
  });

  it('leaves trailingSlash unset when the file does not set it, and reports unsupported keys', () => {
    const config = compileVercelConfig({ functions: {}, regions: ['iad1'] });
    expect(config.routing).toEqual({ cleanUrls: false, redirects: [], rewrites: [], headers: [] });
    expect(config.ignoredKeys).toEqual(['functions', 'regions']);
  });

  it('takes build settings from the file as argument arrays', () => {
    const config = compileVercelConfig({ buildCommand: 'npm run build:site', installCommand: 'npm ci', outputDirectory: 'site' });
    expect(config).toMatchObject({ buildCommand: ['npm', 'run', 'build:site'], installCommand: ['npm', 'ci'], outputDirectory: 'site' });
  });

  it.each([
    [{ cleanUrls: 'yes' }, 'vercel.json: cleanUrls:'],
    [{ trailingSlash: 1 }, 'vercel.json: trailingSlash:'],
    [{ redirects: [{ source: 'old', destination: '/new' }] }, 'vercel.json: redirects[0].source: must start with "/"'],
    [{ redirects: [{ source: '/a', destination: '/b' }, { source: '/c' }] }, 'vercel.json: redirects[1].destination:'],
    [{ redirects: [{ source: '/a', destination: '/b', statusCode: 200 }] }, 'vercel.json: redirects[0].statusCode:'],
    [{ redirects: [{ source: '/a', destination: '/b', permanent: true, statusCode: 301 }] }, 'vercel.json: redirects[0]: set either'],
    [{ redirects: [{ source: '/a', destination: 'javascript:alert(1)' }] }, 'vercel.json: redirects[0].destination: must be a path'],
    [
      { rewrites: [{ source: '/api/(.*)', destination: 'https://api.example.com/$1' }] },
      'vercel.json: rewrites[0].destination: must be a path starting with "/"',
    ],
    [{ rewrites: [{ source: '/(.*', destination: '/index.html' }] }, 'vercel.json: rewrites[0].source: has unbalanced parentheses'],
    [
      { rewrites: [{ source: '/a', destination: '/b', has: [{ type: 'header', key: 'x-a', value: { eq: 'x' } }] }] },
      'vercel.json: rewrites[0].has[0].value: must be a string (a regular expression); the object form',
    ],
    [{ rewrites: [{ source: '/a', destination: '/b', has: [{ type: 'query', key: 'q', value: '(' }] }] }, 'must be a valid regular expression'],
    [{ redirects: [{ source: '/a', destination: '/b', missing: [{ type: 'cookie' }] }] }, 'vercel.json: redirects[0].missing[0].key'],
    [{ headers: [{ source: '/a', headers: [{ key: 'X', value: 'y' }], has: [{ type: 'ip', value: '1' }] }] }, 'vercel.json: headers[0].has[0].type'],
    [
      { headers: [{ source: '/(.*)', headers: [{ key: 'Bad Header', value: 'x' }] }] },
      'vercel.json: headers[0].headers[0].key: must be a valid HTTP header name',
    ],
    [
      { headers: [{ source: '/(.*)', headers: [{ key: 'X-A', value: 'a\r\nSet-Cookie: x' }] }] },
      'vercel.json: headers[0].headers[0].value: must not contain line breaks',
    ],
    [{ headers: [{ source: '/(.*)', headers: [] }] }, 'vercel.json: headers[0].headers:'],
    [{ buildCommand: 'npm ci && npm run build' }, 'vercel.json: buildCommand: shell operator "&"'],
    [[1, 2], 'vercel.json must be a JSON object'],
  ])('rejects %j naming the field', (input, message) => {
    expect(() => compileVercelConfig(input)).toThrow(VercelConfigError);
    expect(() => compileVercelConfig(input)).toThrow(message);
  });

  it('compiles has and missing conditions (header, cookie, host, query) onto each kind of rule', () => {
    const config = compileVercelConfig({
      redirects: [{ source: '/old', destination: '/new', has: [{ type: 'host', value: 'old\\.example\\.com' }], missing: [{ type: 'cookie', key: 'stay' }] }],
      rewrites: [{ source: '/', destination: '/beta.html', has: [{ type: 'header', key: 'X-Beta', value: '(?<flag>on|yes)' }] }],
      headers: [{ source: '/(.*)', headers: [{ key: 'X-Q', value: ':q' }], has: [{ type: 'query', key: 'q' }] }],
    });
    expect(config.routing.redirects[0]).toEqual({
      source: '/old',
      destination: '/new',
      statusCode: 308,
      has: [{ type: 'host', value: 'old\\.example\\.com' }],
      missing: [{ type: 'cookie', key: 'stay' }],
    });
    expect(config.routing.rewrites[0]?.has).toEqual([{ type: 'header', key: 'X-Beta', value: '(?<flag>on|yes)' }]);
    expect(config.routing.headers[0]?.has).toEqual([{ type: 'query', key: 'q' }]);
    // Rules without conditions carry none: the proxy memoizes them by path alone.
    expect(compileVercelConfig({ rewrites: [{ source: '/a', destination: '/b' }] }).routing.rewrites[0]).toEqual({ source: '/a', destination: '/b' });
  });

  it('reads the file from the root directory: absent is null, broken JSON is an error', async () => {
    const dir = tempDir('vercel');
    expect(await readVercelConfig(dir)).toBeNull();
    writeFileSync(join(dir, 'vercel.json'), '{ "cleanUrls": true, }');
    await expect(readVercelConfig(dir)).rejects.toThrow(/^vercel\.json is not valid JSON/);
    writeFileSync(join(dir, 'vercel.json'), '{ "cleanUrls": true }');
    expect((await readVercelConfig(dir))?.routing.cleanUrls).toBe(true);
  });
});
