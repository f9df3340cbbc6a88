import { getTransformedRoutes } from '@vercel/routing-utils';
import { describe, expect, it } from 'vitest';
import { routingConfigSchema, type Manifest } from '@platform/contracts';
import type { RequestFacts } from './rule-conditions.ts';
import { Site } from './site.ts';

const FILES = ['index.html', 'beta.html', 'sale.html', 'docs/intro.html', '404.html'];
const file = (path: string) => ({ size: 1, hash: path.replace(/\W/g, ''), contentType: 'text/html', cacheControl: 'public, max-age=0' });

/** One vercel.json using every condition type on every kind of rule. */
const VERCEL_JSON = {
  redirects: [
    { source: '/old/:slug', destination: '/new/:slug', has: [{ type: 'host', value: 'old\\.example\\.com' }] },
    { source: '/promo', destination: '/sale.html', permanent: false, missing: [{ type: 'cookie', key: 'seen' }] },
    { source: '/go', destination: '/lang/:lang', has: [{ type: 'query', key: 'lang', value: '(?<lang>en|fr)' }] },
    { source: '/who', destination: '/user/:uid', has: [{ type: 'cookie', key: 'uid' }] },
  ],
  rewrites: [
    { source: '/', destination: '/beta.html', has: [{ type: 'header', key: 'X-Beta', value: 'on|yes' }] },
    { source: '/docs/:page', destination: '/docs/intro.html', missing: [{ type: 'header', key: 'x-raw' }] },
  ],
  headers: [
    { source: '/(.*)', headers: [{ key: 'X-Query', value: 'present' }], has: [{ type: 'query', key: 'debug' }] },
    { source: '/docs/(.*)', headers: [{ key: 'X-Docs', value: 'yes' }], missing: [{ type: 'host', value: 'internal\\..*' }] },
  ],
};

interface Request {
  path: string;
  host?: string;
  query?: string;
  headers?: Record<string, string>;
}
type Outcome = { redirect: number; location: string; headers: Record<string, string> } | { file: string | null; headers: Record<string, string> };

const factsOf = (r: Request): RequestFacts => ({ host: r.host ?? 'site.example', query: r.query ?? '', headers: r.headers ?? {} });

/**
 * The oracle: the routes @vercel/routing-utils compiles from the same vercel.json, run the way
 * Vercel's edge runs them (redirects and `continue` header routes, then the filesystem, then
 * rewrites), with `has`/`missing` checked as Vercel documents them.
 */
function vercelOutcome(request: Request): Outcome {
  const { routes, error } = getTransformedRoutes(VERCEL_JSON as never);
  if (error) throw new Error(error.message);
  const headers: Record<string, string> = {};
  const facts = factsOf(request);
  let afterFilesystem = false;
  for (const route of routes ?? []) {
    if ('handle' in route) {
      if (route.handle === 'filesystem') {
        afterFilesystem = true;
        const found = lookup(request.path);
        if (found) return { file: found, headers };
      }
      continue;
    }
    const m = new RegExp(route.src).exec(request.path);
    if (!m) continue;
    const captures = vercelConditions(route.has as never, route.missing as never, facts);
    if (!captures) continue;
    const fill = (t: string) =>
      t.replace(/\$(\d+)|\$([A-Za-z_]\w*)/g, (_w, n: string | undefined, name: string | undefined) =>
        n ? (m[Number(n)] ?? '') : (captures.get(name!) ?? m.groups?.[name!] ?? ''),
      );
    if (route.status && route.headers?.Location) return { redirect: route.status, location: fill(route.headers.Location), headers };
    if (route.continue && route.headers) {
      for (const [k, v] of Object.entries(route.headers)) headers[k.toLowerCase()] = v;
      continue;
    }
    if (route.dest && afterFilesystem) return { file: lookup(fill(route.dest).split('?')[0]!), headers };
  }
  return { file: null, headers };
}

function lookup(path: string): string | null {
  const key = path === '/' ? 'index.html' : path.slice(1);
  return FILES.includes(key) ? key : null;
}

function vercelConditions(
  has: { type: string; key?: string; value?: string }[] | undefined,
  missing: { type: string; key?: string; value?: string }[] | undefined,
  facts: RequestFacts,
): Map<string, string> | null {
  const captures = new Map<string, string>();
  const requestValue = (c: { type: string; key?: string }): string | undefined => {
    if (c.type === 'host') return facts.host;
    if (c.type === 'header') return facts.headers[c.key!.toLowerCase()] as string | undefined;
    if (c.type === 'query') return new URLSearchParams(facts.query).get(c.key!) ?? undefined;
    const cookie = String(facts.headers.cookie ?? '');
    return cookie
      .split(';')
      .map((p) => p.trim().split('='))
      .find(([k]) => k === c.key)?.[1];
  };
  const test = (c: { type: string; key?: string; value?: string }) => {
    const v = requestValue(c);
    if (v === undefined) return false;
    if (c.value === undefined) {
      if (c.key) captures.set(c.key.replace(/[^A-Za-z0-9]/g, ''), v);
      return true;
    }
    const m = new RegExp(`^${c.value}$`).exec(v);
    for (const [k, val] of Object.entries(m?.groups ?? {})) captures.set(k, val);
    return m !== null;
  };
  if (!(has ?? []).every(test)) return null;
  if ((missing ?? []).some(test)) return null;
  return captures;
}

function ourOutcome(site: Site, request: Request): Outcome {
  const r = site.resolve(request.path, false, factsOf(request));
  if (r.kind === 'redirect') {
    const headers: Record<string, string> = {};
    for (let i = 0; i < r.headers.length; i += 2) headers[r.headers[i]!.toLowerCase()] = r.headers[i + 1]!;
    return { redirect: r.status, location: r.location, headers };
  }
  const flat = r.kind === 'file' ? r.identity.headersBare : r.kind === 'not-found' ? r.headers : [];
  const headers: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    if (name.startsWith('x-')) headers[name] = flat[i + 1]!;
  }
  return { file: r.kind === 'file' && r.status === 200 ? r.path : null, headers };
}

const REQUESTS: Request[] = [
  { path: '/old/hello', host: 'old.example.com' },
  { path: '/old/hello', host: 'new.example.com' },
  { path: '/promo' },
  { path: '/promo', headers: { cookie: 'a=1; seen=1' } },
  { path: '/go', query: 'lang=fr' },
  { path: '/go', query: 'lang=de' },
  { path: '/who', headers: { cookie: 'uid=u42' } },
  { path: '/who' },
  { path: '/', headers: { 'x-beta': 'yes' } },
  { path: '/', headers: { 'x-beta': 'nope' } },
  { path: '/' },
  { path: '/', query: 'debug=1' },
  { path: '/docs/anything' },
  { path: '/docs/anything', headers: { 'x-raw': '1' } },
  { path: '/docs/anything', host: 'internal.example' },
  { path: '/beta.html', query: 'debug' },
];

/** vercel.json as the build-server compiles it into the manifest (vercel-config.ts, tested there): `permanent` becomes a status. */
const compile = (json: Partial<typeof VERCEL_JSON>) =>
  routingConfigSchema.parse({
    redirects: (json.redirects ?? []).map(({ permanent, ...r }: { permanent?: boolean } & Record<string, unknown>) => ({
      ...r,
      statusCode: permanent === false ? 307 : 308,
    })),
    rewrites: json.rewrites ?? [],
    headers: json.headers ?? [],
  });

describe('has / missing conditions, against @vercel/routing-utils', () => {
  const manifest: Manifest = {
    version: 1,
    deploymentId: 'cond1',
    createdAt: '2026-12-01T00:00:00Z',
    files: Object.fromEntries(FILES.map((f) => [f, file(f)])),
    routing: compile(VERCEL_JSON),
  };

  it.each(REQUESTS.map((r) => [JSON.stringify(r), r] as const))('%s resolves as Vercel would', (_name, request) => {
    const site = new Site(manifest);
    expect(site.problems).toEqual([]);
    expect(ourOutcome(site, request)).toEqual(vercelOutcome(request));
  });

  it('the per-path memo never serves one request the answer another request condition chose', () => {
    // One Site for the whole table, in order and then in reverse: a wrongly memoized answer shows.
    const site = new Site(manifest);
    for (const request of [...REQUESTS, ...[...REQUESTS].reverse()]) expect(ourOutcome(site, request)).toEqual(vercelOutcome(request));
  });

  it('still memoizes paths no conditional rule matches', () => {
    const site = new Site({ ...manifest, routing: compile({ rewrites: VERCEL_JSON.rewrites }) });
    const memo = (site as unknown as { memo: Map<string, unknown> }).memo;
    site.resolve('/sale.html', false);
    // A file is there, so the conditional rewrite of "/" is not even consulted: remembered.
    site.resolve('/', false, factsOf({ path: '/', headers: { 'x-beta': 'yes' } }));
    expect([...memo.keys()]).toEqual(['/sale.html', '/']);
    // No file: the conditional rewrite decided, so the path is remembered only with what its conditions read.
    site.resolve('/docs/x', false, factsOf({ path: '/docs/x' }));
    site.resolve('/docs/x', false, factsOf({ path: '/docs/x', headers: { 'x-raw': '1', 'x-other': 'ignored' } }));
    site.resolve('/docs/x', false, factsOf({ path: '/docs/x', headers: { 'x-raw': '1', 'x-other': 'changes nothing' } }));
    expect(memo.has('/docs/x')).toBe(false);
    expect([...memo.keys()].filter((k) => k.startsWith('/docs/x'))).toHaveLength(2);
  });

  it('reports a condition the proxy cannot compile instead of failing the site', () => {
    const site = new Site({
      ...manifest,
      routing: routingConfigSchema.parse({ rewrites: [{ source: '/x', destination: '/index.html', has: [{ type: 'header', key: 'a', value: '(' }] }] }),
    });
    expect(site.problems[0]).toMatch(/not a valid regular expression/);
  });
});
