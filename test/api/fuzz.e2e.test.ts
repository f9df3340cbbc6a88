import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubBranchPush } from '@platform/testing/github';
import { http } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';

/** A small seeded PRNG, so a failing run can be replayed with FUZZ_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REQUESTS = 10_000;
const CONCURRENCY = 16;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

// At least 10,000 malformed requests across the whole API: hostile ids, broken JSON, wrong
// types, odd content types, bad credentials and signatures. None may get a 5xx, and the
// server must still answer properly afterwards.
describe('fuzzing the API', () => {
  let platform: TestPlatform;
  let projectId: string;
  let deploymentId: string;
  let stranger: string;
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ LOGIN_RATE_LIMIT_PER_MINUTE: '100000', WEBHOOK_RATE_LIMIT_PER_MINUTE: '100000' });
    // A repository that cannot be fetched, so deployments the fuzzer happens to start end at once.
    const created = await http(platform.api, 'POST', '/projects', { name: 'fuzz-target', gitUrl: 'https://github.invalid/fuzz/target.git' });
    projectId = created.json.project.id;
    deploymentId = (await http(platform.api, 'POST', '/deploy', { projectId })).json.deployment.id;
    stranger = (await platform.signup('fuzz-stranger@example.test')).token;
  });
  afterAll(async () => {
    await platform?.close();
  });

  it(`survives ${REQUESTS} malformed requests without a 5xx`, async () => {
    const rnd = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const hostileIds = [
      '',
      '%',
      '%00',
      '%zz',
      '..',
      '%2e%2e',
      '%252e%252e',
      '..%2f..%2fetc%2fpasswd',
      'a'.repeat(5000),
      '%F0%9F%92%A5',
      '%E0%A4%A',
      "'%20OR%201=1--",
      '$%7Bjndi:ldap://x%7D',
      '__proto__',
      'constructor',
      '-1',
      '0',
      '1e309',
      'null',
      'undefined',
      '%5B%5D',
      'prj_',
      'x'.repeat(65),
    ];
    const id = () => pick([...hostileIds, projectId, deploymentId, `prj_${Math.floor(rnd() * 1e9)}`]);
    const templates = [
      '/projects',
      '/project',
      '/projects/:id',
      '/projects/:id/deployments',
      '/projects/:id/env',
      '/projects/:id/env/:id',
      '/projects/:id/github-webhook/secret',
      '/projects/:id/github-webhook/deliveries',
      '/projects/:id/github-webhook/deliveries/:id/redeliver',
      '/projects/:id/deploy-hooks',
      '/projects/:id/deploy-hooks/:id',
      '/projects/:id/notifications',
      '/projects/:id/notifications/:id',
      '/projects/:id/notifications/:id/deliveries',
      '/projects/:id/analytics',
      '/deploy',
      '/deployments/:id',
      '/deployments/:id/logs',
      '/deployments/:id/cancel',
      '/deployments/:id/redeploy',
      '/deployments/:id/promote',
      '/auth/signup',
      '/auth/login',
      '/auth/me',
      '/auth/tokens',
      '/auth/tokens/:id',
      '/webhooks/github',
      '/deploy-hooks/:id',
      '/openapi.json',
      '/healthz',
      '/%',
      '/..%2f',
      '//',
      '/projects/',
    ];
    const queries = [
      '',
      '?limit=-1',
      '?limit=1e9',
      '?limit=abc',
      '?status=DONE',
      '?status=',
      '?status=READY&status=ERROR',
      '?branch[$ne]=1',
      '?before=%00',
      '?afterSeq=-5',
      '?afterSeq=99999999999999999999',
      `?projectId=${projectId}`,
      '?projectId[]=x',
      '?%=%',
      `?a=${'b'.repeat(3000)}`,
      '?target=staging',
    ];
    const methods = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'POST', 'POST', 'PATCH'];
    const junkValues: unknown[] = [
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      '',
      ' ',
      'x'.repeat(100_000),
      [],
      {},
      [[[]]],
      { $ne: 1 },
      '../../etc/passwd',
      'ext::sh -c id',
      '-uploadpack=touch',
      '\u0000',
      '\ud800',
      '💥',
      '<script>alert(1)</script>',
      "' OR 1=1 --",
      'https://169.254.169.254/latest',
      'ftp://x',
      'PATH',
    ];
    const fields = [
      'name',
      'gitUrl',
      'productionBranch',
      'rootDirectory',
      'installCommand',
      'buildCommand',
      'outputDirectory',
      'nodeVersion',
      'ignoreCommand',
      'spa',
      'slug',
      'projectId',
      'ref',
      'commit',
      'email',
      'password',
      'key',
      'value',
      'targets',
      'url',
      'events',
      'branch',
      'useBuildCache',
      'reason',
      'expiresInDays',
      '__proto__',
      'constructor',
      'prototype',
    ];
    const rawBodies = [
      '{',
      '{"a":',
      '[',
      'null',
      '1',
      '"str"',
      'true',
      '{"a":1,}',
      "{'a':1}",
      '\u0000\u0001\u0002',
      '['.repeat(5000) + ']'.repeat(5000),
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '1e999',
      '{"name":"x","name":{"nested":true}}',
      '\xff\xfe{}',
    ];
    const contentTypes = [
      'application/json',
      'application/json',
      'application/json; charset=utf-16',
      'application/json; charset=bogus',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      '',
      'application/vnd.api+json',
    ];
    const pushBody = JSON.stringify(githubBranchPush());

    const makeBody = (): Buffer | undefined => {
      const kind = rnd();
      if (kind < 0.1) return undefined;
      if (kind < 0.35) return Buffer.from(pick(rawBodies), 'latin1');
      if (kind < 0.45) return Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      if (kind < 0.5) return Buffer.from(pushBody.slice(0, Math.floor(rnd() * pushBody.length)));
      const obj: Record<string, unknown> = {};
      const n = 1 + Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) obj[pick(fields)] = rnd() < 0.2 ? id() : pick(junkValues);
      if (rnd() < 0.3) obj.projectId = pick([projectId, deploymentId, 42, null]);
      return Buffer.from(JSON.stringify(obj));
    };

    const make = (): FuzzRequest => {
      const template = pick(templates);
      let method = pick(methods);
      let path = template.replace(/:id/g, () => id()) + pick(queries);
      // Deleting the target itself would only shrink what the rest of the run reaches.
      if (method === 'DELETE' && path.startsWith(`/projects/${projectId}`) && !path.startsWith(`/projects/${projectId}/`)) method = 'PATCH';
      if (path.length > 7000) path = path.slice(0, 7000);
      const headers: Record<string, string> = {};
      const auth = rnd();
      if (auth < 0.55) headers.authorization = `Bearer ${platform.token}`;
      else if (auth < 0.65) headers.authorization = `Bearer ${stranger}`;
      else if (auth < 0.8)
        headers.authorization = pick([
          'Bearer',
          'Bearer ',
          'Basic YTpi',
          'Bearer x.y.z',
          `Bearer ${platform.token}x`,
          `Bearer plt_${'A'.repeat(43)}`,
          `bearer  ${'a'.repeat(5000)}`,
          'Token abc',
        ]);
      const body = makeBody();
      const ct = pick(contentTypes);
      if (ct && body) headers['content-type'] = ct;
      if (path.startsWith('/webhooks/github')) {
        if (rnd() < 0.8) headers['x-github-event'] = pick(['push', 'ping', 'issues', '', 'PUSH', '../x', 'a'.repeat(100)]);
        if (rnd() < 0.8) headers['x-github-delivery'] = pick([crypto.randomUUID(), '', 'not a guid!', 'x'.repeat(200)]);
        if (rnd() < 0.8) headers['x-hub-signature-256'] = pick([`sha256=${'0'.repeat(64)}`, 'sha256=', 'sha1=abc', `sha256=${'g'.repeat(64)}`, 'garbage']);
      }
      if (rnd() < 0.05) headers['x-request-id'] = pick(['', '../../', 'a'.repeat(500), 'ok-id']);
      if (rnd() < 0.03) headers['content-encoding'] = pick(['gzip', 'br', 'deflate', 'bogus']);
      const sendBody = body && method !== 'GET' && method !== 'HEAD';
      // Framed explicitly: node does not frame a body on OPTIONS or DELETE by itself.
      if (sendBody) headers['content-length'] = String(body.length);
      return { method, path, headers, ...(sendBody ? { body } : {}) };
    };

    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const port = Number(new URL(platform.api).port);
    const send = (r: FuzzRequest, fresh = false): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent: fresh ? false : agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        });
        req.on('error', (err: NodeJS.ErrnoException) => {
          // The keep-alive race node documents for `reusedSocket`: the server closed an idle
          // connection just as it was reused. Retried once on a new connection; any other
          // connection failure counts.
          if (req.reusedSocket && err.code === 'ECONNRESET' && !fresh) send(r, true).then(resolve, reject);
          else reject(err);
        });
        req.end(r.body);
      });

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let sent = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          next++;
          const r = make();
          let status: number;
          try {
            status = await send(r);
          } catch (err) {
            failures.push(`${r.method} ${r.path.slice(0, 200)}: connection failed: ${(err as Error).message}`);
            continue;
          }
          sent++;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500 || status < 100)
            failures.push(
              `${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.headers).slice(0, 300)} body=${r.body?.toString('latin1').slice(0, 200)} → ${status}`,
            );
        }
      }),
    );
    agent.destroy();

    const summary = [...statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    console.log(`fuzz seed ${seed}: ${sent} requests: ${summary}`);
    expect(failures.slice(0, 20), `seed ${seed}`).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(REQUESTS);
    // It reached the handlers, not only the front door.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
    expect(statuses.get(404) ?? 0).toBeGreaterThan(500);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(500);

    // Still up and still right.
    expect((await http(platform.api, 'GET', '/healthz')).status).toBe(200);
    const project = await http(platform.api, 'GET', `/projects/${projectId}`);
    expect(project.status).toBe(200);
    expect(project.json.project.name).toBe('fuzz-target');
    const fresh = await http(platform.api, 'POST', '/projects', { name: 'after-fuzz', gitUrl: 'https://github.com/a/b.git' });
    expect(fresh.status).toBe(201);
    // Nobody gained anything through prototype pollution.
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 300_000);
});
