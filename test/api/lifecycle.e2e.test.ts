import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Polls until `check` passes (the proxy caches route records for a short TTL). */
async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(100);
    }
  }
}

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('accounts, projects, deployments, env vars and notifications', () => {
  let platform: TestPlatform;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  /** Paths that answer 500 this many more times before accepting. */
  const failuresLeft = new Map<string, number>();

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const left = failuresLeft.get(req.url ?? '') ?? 0;
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (left > 0) {
          failuresLeft.set(req.url ?? '', left - 1);
          res.writeHead(500).end('try later');
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    platform = await startEmbeddedPlatform({}, { notifications: { pollIntervalMs: 100, baseBackoffMs: 50, maxAttempts: 4 } });
  });
  afterAll(async () => {
    await platform?.close();
    receiver?.close();
  });

  describe('accounts', () => {
    it('signs up, logs in, and refuses wrong credentials the same way for unknown emails', async () => {
      const up = await http(platform.api, 'POST', '/auth/signup', { email: ' Ada@Example.test ', password: 'a long enough password' }, { authorization: '' });
      expect(up.status).toBe(201);
      expect(up.json.user.email).toBe('ada@example.test');
      expect(up.text).not.toContain('a long enough password');
      expect(
        (await http(platform.api, 'POST', '/auth/signup', { email: 'ada@example.test', password: 'another password!' }, { authorization: '' })).status,
      ).toBe(409);
      const short = await http(platform.api, 'POST', '/auth/signup', { email: 'bob@example.test', password: 'short' }, { authorization: '' });
      expect(short.status).toBe(400);
      expect(short.json.error.message).toContain('password');

      const login = await http(platform.api, 'POST', '/auth/login', { email: 'ada@example.test', password: 'a long enough password' }, { authorization: '' });
      expect(login.status).toBe(200);
      const me = await http(platform.api, 'GET', '/auth/me', undefined, { authorization: `Bearer ${login.json.accessToken}` });
      expect(me.json.user).toMatchObject({ id: up.json.user.id, email: 'ada@example.test' });

      const wrong = await http(platform.api, 'POST', '/auth/login', { email: 'ada@example.test', password: 'wrong password' }, { authorization: '' });
      const unknown = await http(platform.api, 'POST', '/auth/login', { email: 'nobody@example.test', password: 'wrong password' }, { authorization: '' });
      expect([wrong.status, unknown.status]).toEqual([401, 401]);
      expect(wrong.json).toEqual(unknown.json);

      expect((await http(platform.api, 'GET', '/projects', undefined, { authorization: '' })).status).toBe(401);
      expect((await http(platform.api, 'GET', '/projects', undefined, { authorization: 'Bearer not.a.jwt' })).json.error.code).toBe('invalid_token');
      // A token signed with another key is refused.
      const [h, p] = login.json.accessToken.split('.');
      const forged = `${h}.${p}.${createHmac('sha256', 'guess').update(`${h}.${p}`).digest('base64url')}`;
      expect((await http(platform.api, 'GET', '/auth/me', undefined, { authorization: `Bearer ${forged}` })).status).toBe(401);
    });

    it('API tokens: shown once, stored hashed, work until revoked', async () => {
      const created = await http(platform.api, 'POST', '/auth/tokens', { name: 'ci', expiresInDays: 30 });
      expect(created.status).toBe(201);
      const secret: string = created.json.secret;
      expect(secret).toMatch(/^plt_[A-Za-z0-9_-]{43}$/);
      const list = await http(platform.api, 'GET', '/auth/tokens');
      expect(list.text).not.toContain(secret);
      expect(list.json.tokens[0]).toMatchObject({ name: 'ci', prefix: secret.slice(0, 10), revokedAt: null });
      const rows = await platform.deps.db.query<{ token_hash: string }>('SELECT token_hash FROM api_tokens');
      expect(JSON.stringify(rows)).not.toContain(secret);

      expect((await http(platform.api, 'GET', '/auth/me', undefined, { authorization: `Bearer ${secret}` })).status).toBe(200);
      expect((await http(platform.api, 'GET', '/projects', undefined, { authorization: `Bearer ${secret}` })).status).toBe(200);
      expect((await http(platform.api, 'DELETE', `/auth/tokens/${created.json.token.id}`)).json.token.revokedAt).not.toBeNull();
      expect((await http(platform.api, 'GET', '/auth/me', undefined, { authorization: `Bearer ${secret}` })).status).toBe(401);
    });
  });

  describe('a project through its life', () => {
    let repo: string;
    let projectId: string;
    let v1: any;
    let v2: any;
    const greeting = `hello-from-production-${Math.random().toString(36).slice(2)}`;
    const previewGreeting = `hello-from-preview-${Math.random().toString(36).slice(2)}`;

    it('creates projects with unique slugs and validates settings', async () => {
      repo = gitRepoFromFixture('env-site');
      const created = await http(platform.api, 'POST', '/projects', { name: 'Life Site', gitUrl: repo });
      expect(created.status).toBe(201);
      expect(created.json.project).toMatchObject({ slug: 'life-site', productionBranch: 'main', spa: false });
      projectId = created.json.project.id;
      // The same name again: a free subdomain is derived; an explicit taken slug is a conflict.
      const twin = await http(platform.api, 'POST', '/projects', { name: 'Life Site', gitUrl: repo });
      expect(twin.json.project.slug).toMatch(/^life-site-[a-z0-9]{5}$/);
      expect((await http(platform.api, 'POST', '/projects', { name: 'x', slug: 'life-site', gitUrl: repo })).status).toBe(409);
      // Nobody can take a name whose hostname is another project's branch or deployment hostname.
      const branchLike = await http(platform.api, 'POST', '/projects', { name: 'x', slug: 'life-site-git-main', gitUrl: repo });
      expect(branchLike.status).toBe(400);
      expect(branchLike.json.error.message).toContain('slug');
      expect((await http(platform.api, 'POST', '/projects', { name: 'Life Site Git Main', gitUrl: repo })).status).toBe(400);
      expect((await http(platform.api, 'POST', '/projects', { name: 'x', slug: 'api', gitUrl: repo })).status).toBe(400);
      const deploymentLike = await http(platform.api, 'POST', '/projects', { name: 'life-site-abcdefghi', gitUrl: repo });
      expect(deploymentLike.json.project.slug).toMatch(/^life-site-abcdefghi-[a-z0-9]{5}$/);
      expect((await http(platform.api, 'DELETE', `/projects/${deploymentLike.json.project.id}`)).status).toBe(204);
      expect((await http(platform.api, 'DELETE', `/projects/${twin.json.project.id}`)).status).toBe(204);

      const patched = await http(platform.api, 'PATCH', `/projects/${projectId}`, { spa: true, buildCommand: 'npm run build', outputDirectory: 'dist' });
      expect(patched.json.project).toMatchObject({ spa: true, buildCommand: 'npm run build', outputDirectory: 'dist' });
      const cleared = await http(platform.api, 'PATCH', `/projects/${projectId}`, { buildCommand: null, spa: false });
      expect(cleared.json.project).toMatchObject({ spa: false, buildCommand: null, outputDirectory: 'dist' });
      const hostile = await http(platform.api, 'PATCH', `/projects/${projectId}`, { gitUrl: 'ext::sh -c touch% /tmp/pwned' });
      expect(hostile.status).toBe(400);
      expect(hostile.json.error.message).toContain('gitUrl');
      expect((await http(platform.api, 'PATCH', `/projects/${projectId}`, { slug: 'renamed' })).status).toBe(400);
      expect((await http(platform.api, 'PATCH', `/projects/${projectId}`, { installCommand: 'npm "unterminated' })).status).toBe(400);
      expect((await http(platform.api, 'GET', '/projects')).json.projects.map((p: any) => p.id)).toEqual([projectId]);
    });

    it('keeps env vars encrypted: never in a response, never in clear in the database', async () => {
      const prod = await http(platform.api, 'POST', `/projects/${projectId}/env`, { key: 'GREETING', value: greeting, targets: ['production'] });
      expect(prod.status).toBe(201);
      const prev = await http(platform.api, 'POST', `/projects/${projectId}/env`, { key: 'GREETING', value: previewGreeting, targets: ['preview'] });
      expect(prev.status).toBe(201);
      expect((await http(platform.api, 'POST', `/projects/${projectId}/env`, { key: 'GREETING', value: 'again', targets: ['preview'] })).status).toBe(409);
      expect((await http(platform.api, 'POST', `/projects/${projectId}/env`, { key: 'PATH', value: '/evil' })).status).toBe(400);
      expect((await http(platform.api, 'POST', `/projects/${projectId}/env`, { key: '1BAD', value: 'x' })).json.error.message).toContain('key');
      const list = await http(platform.api, 'GET', `/projects/${projectId}/env`);
      expect(list.json.envVars).toEqual([
        expect.objectContaining({ key: 'GREETING', target: 'preview' }),
        expect.objectContaining({ key: 'GREETING', target: 'production' }),
      ]);
      for (const res of [prod, prev, list]) {
        expect(res.text).not.toContain(greeting);
        expect(res.text).not.toContain(previewGreeting);
        expect(res.text).not.toContain('value');
      }
      const patched = await http(platform.api, 'PATCH', `/projects/${projectId}/env/${prev.json.envVars[0].id}`, { value: previewGreeting });
      expect(patched.status).toBe(200);
      expect(patched.text).not.toContain(previewGreeting);

      // Nowhere in the database files either: flush everything, then read every byte.
      await platform.deps.db.query('CHECKPOINT');
      const needles = [greeting, previewGreeting].flatMap((v) => [Buffer.from(v), Buffer.from(v, 'utf16le')]);
      const files = filesUnder(join(platform.dataDir, 'pglite'));
      expect(files.length).toBeGreaterThan(10);
      for (const file of files) {
        const bytes = readFileSync(file);
        for (const needle of needles) expect(bytes.includes(needle), file).toBe(false);
      }
      const stored = await platform.deps.db.query<{ value_enc: string }>('SELECT value_enc FROM env_vars WHERE project_id = $1', [projectId]);
      expect(stored.map((r) => r.value_enc)).toEqual([expect.stringMatching(/^v1:/), expect.stringMatching(/^v1:/)]);
    });

    it('notifies, signed, on created and succeeded; injects the target’s env vars into the build', async () => {
      const endpoint = await http(platform.api, 'POST', `/projects/${projectId}/notifications`, { url: `${receiverUrl}/all` });
      expect(endpoint.status).toBe(201);
      const signingSecret: string = endpoint.json.secret;
      const onlyPromoted = await http(platform.api, 'POST', `/projects/${projectId}/notifications`, {
        url: `${receiverUrl}/promoted`,
        events: ['deployment.promoted'],
      });
      expect(onlyPromoted.status).toBe(201);
      // This endpoint fails twice, then accepts: the retries deliver.
      failuresLeft.set('/flaky', 2);
      await http(platform.api, 'POST', `/projects/${projectId}/notifications`, { url: `${receiverUrl}/flaky`, events: ['deployment.succeeded'] });
      // This one always fails: given up after maxAttempts (4 here).
      failuresLeft.set('/down', 1_000);
      const down = await http(platform.api, 'POST', `/projects/${projectId}/notifications`, { url: `${receiverUrl}/down`, events: ['deployment.succeeded'] });
      expect((await http(platform.api, 'POST', `/projects/${projectId}/notifications`, { url: 'ftp://example.com/x' })).status).toBe(400);

      const deploy = await http(platform.api, 'POST', '/deploy', { projectId });
      expect(deploy.status).toBe(202);
      v1 = await waitForDeployment(platform.api, deploy.json.deployment.id);
      expect(v1).toMatchObject({ status: 'READY', target: 'production', ref: 'main' });
      const page = await viaProxy(platform.proxyPort, 'life-site.localhost');
      expect(page.text).toContain(`greeting=${greeting}`);
      expect(page.text).toContain('version=1');

      await eventually(async () => {
        const events = received.filter((r) => r.path === '/all').map((r) => JSON.parse(r.body));
        expect(events.map((e) => e.type)).toEqual(['deployment.created', 'deployment.succeeded']);
      });
      for (const r of received.filter((x) => x.path === '/all')) {
        const expected = `sha256=${createHmac('sha256', signingSecret).update(r.body).digest('hex')}`;
        expect(r.headers['x-platform-signature']).toBe(expected);
        expect(JSON.parse(r.body)).toMatchObject({ projectId, deployment: { id: v1.id } });
      }
      expect(received.filter((r) => r.path === '/promoted')).toEqual([]);
      await eventually(async () => {
        const flaky = received.filter((r) => r.path === '/flaky');
        expect(flaky).toHaveLength(3);
        expect(new Set(flaky.map((r) => r.headers['x-platform-delivery'])).size).toBe(1);
      });
      const deliveries = await http(platform.api, 'GET', `/projects/${projectId}/notifications/${endpoint.json.endpoint.id}/deliveries`);
      expect(deliveries.json.deliveries.map((d: any) => d.status)).toEqual(['delivered', 'delivered']);
      await eventually(async () => {
        const res = await http(platform.api, 'GET', `/projects/${projectId}/notifications/${down.json.endpoint.id}/deliveries`);
        expect(res.json.deliveries).toEqual([
          expect.objectContaining({ status: 'failed', attempts: 4, responseStatus: 500, lastError: 'the endpoint answered 500' }),
        ]);
      });
      expect(received.filter((r) => r.path === '/down')).toHaveLength(4);
    });

    it('builds a preview branch with the preview variables, and filters the list', async () => {
      execFileSync('git', ['checkout', '-q', '-b', 'feature/new-look'], { cwd: repo });
      writeFileSync(join(repo, 'version.txt'), 'feature\n');
      gitCommitAll(repo, 'feature');
      execFileSync('git', ['checkout', '-q', 'main'], { cwd: repo });
      const deploy = await http(platform.api, 'POST', '/deploy', { projectId, ref: 'feature/new-look' });
      const done = await waitForDeployment(platform.api, deploy.json.deployment.id);
      expect(done).toMatchObject({ status: 'READY', target: 'preview', ref: 'feature/new-look' });
      const page = await viaProxy(platform.proxyPort, 'life-site-git-feature-new-look.localhost');
      expect(page.text).toContain(`greeting=${previewGreeting}`);
      expect(page.text).toContain('version=feature');
      // Production still serves v1.
      expect((await viaProxy(platform.proxyPort, 'life-site.localhost')).text).toContain('version=1');

      const byBranch = await http(platform.api, 'GET', `/projects/${projectId}/deployments?branch=feature/new-look`);
      expect(byBranch.json.deployments.map((d: any) => d.id)).toEqual([done.id]);
      const byStatus = await http(platform.api, 'GET', `/projects/${projectId}/deployments?status=READY,ERROR&target=production`);
      expect(byStatus.json.deployments.map((d: any) => d.id)).toEqual([v1.id]);
      const page1 = await http(platform.api, 'GET', `/projects/${projectId}/deployments?limit=1`);
      expect(page1.json.deployments.map((d: any) => d.id)).toEqual([done.id]);
      const page2 = await http(platform.api, 'GET', `/projects/${projectId}/deployments?limit=1&before=${page1.json.next}`);
      expect(page2.json.deployments.map((d: any) => d.id)).toEqual([v1.id]);
      for (const bad of ['status=DONE', 'limit=0', 'limit=abc', 'target=staging']) {
        const res = await http(platform.api, 'GET', `/projects/${projectId}/deployments?${bad}`);
        expect(res.status, bad).toBe(400);
        expect(res.json.error.code).toBe('invalid_query');
      }
    });

    it('promotes an older READY deployment to production at once (instant rollback), without a rebuild', async () => {
      writeFileSync(join(repo, 'version.txt'), '2\n');
      gitCommitAll(repo, 'v2');
      v2 = await waitForDeployment(platform.api, (await http(platform.api, 'POST', '/deploy', { projectId })).json.deployment.id);
      expect(v2.status).toBe('READY');
      await eventually(async () => expect((await viaProxy(platform.proxyPort, 'life-site.localhost')).text).toContain('version=2'));

      const countBefore = (await http(platform.api, 'GET', `/projects/${projectId}/deployments?limit=100`)).json.deployments.length;
      const promoted = await http(platform.api, 'POST', `/deployments/${v1.id}/promote`);
      expect(promoted.status).toBe(200);
      expect(promoted.json.productionUrl).toBe(`http://life-site.localhost:${platform.proxyPort}`);
      await eventually(async () => expect((await viaProxy(platform.proxyPort, 'life-site.localhost')).text).toContain('version=1'));
      expect((await http(platform.api, 'GET', `/projects/${projectId}`)).json.project.productionDeploymentId).toBe(v1.id);
      expect((await http(platform.api, 'GET', `/projects/${projectId}/deployments?limit=100`)).json.deployments).toHaveLength(countBefore);
      await eventually(async () => {
        const promotedEvents = received.filter((r) => r.path === '/promoted').map((r) => JSON.parse(r.body));
        expect(promotedEvents).toEqual([expect.objectContaining({ type: 'deployment.promoted', deployment: expect.objectContaining({ id: v1.id }) })]);
      });
      // And forward again.
      expect((await http(platform.api, 'POST', `/deployments/${v2.id}/promote`)).status).toBe(200);
      await eventually(async () => expect((await viaProxy(platform.proxyPort, 'life-site.localhost')).text).toContain('version=2'));
    });

    it('redeploys the same commit, optionally without the build cache', async () => {
      const res = await http(platform.api, 'POST', `/deployments/${v1.id}/redeploy`, { useBuildCache: false });
      expect(res.status).toBe(202);
      expect(res.json.deployment).toMatchObject({ commit: v1.commit, ref: 'main', target: 'production', useBuildCache: false });
      const done = await waitForDeployment(platform.api, res.json.deployment.id);
      expect(done.status).toBe('READY');
      expect((await http(platform.api, 'POST', `/deployments/${v1.id}/redeploy`, { useBuildCache: 'no' })).status).toBe(400);
    });

    it('cancels a running build; a finished one cannot be canceled or promoted unless READY', async () => {
      writeFileSync(join(repo, 'slow.mjs'), 'console.log("working"); setTimeout(() => {}, 120_000);\n');
      gitCommitAll(repo, 'slow build');
      await http(platform.api, 'PATCH', `/projects/${projectId}`, { buildCommand: 'node slow.mjs' });
      const deploy = await http(platform.api, 'POST', '/deploy', { projectId });
      const id = deploy.json.deployment.id;
      await eventually(async () => expect((await http(platform.api, 'GET', `/deployments/${id}`)).json.deployment.status).toBe('BUILDING'), 30_000);
      const canceled = await http(platform.api, 'POST', `/deployments/${id}/cancel`, { reason: 'changed my mind' });
      expect(canceled.status).toBe(202);
      const done = await waitForDeployment(platform.api, id);
      expect(done.status).toBe('CANCELED');
      const again = await http(platform.api, 'POST', `/deployments/${id}/cancel`);
      expect(again.status).toBe(409);
      expect(again.json.error.code).toBe('not_cancelable');
      const promote = await http(platform.api, 'POST', `/deployments/${id}/promote`);
      expect(promote.status).toBe(409);
      expect(promote.json.error.code).toBe('not_ready');
      await http(platform.api, 'PATCH', `/projects/${projectId}`, { buildCommand: null });
      await eventually(async () => {
        const types = received
          .filter((r) => r.path === '/all')
          .map((r) => JSON.parse(r.body))
          .filter((e) => e.deployment.id === id)
          .map((e) => e.type);
        expect(types).toEqual(['deployment.created', 'deployment.canceled']);
      });
    });

    it('deletes a project: every hostname stops serving', async () => {
      const hosts = ['life-site.localhost', new URL(v1.url).hostname, 'life-site-git-feature-new-look.localhost'];
      for (const host of hosts) expect((await viaProxy(platform.proxyPort, host)).status, host).toBe(200);
      expect((await http(platform.api, 'DELETE', `/projects/${projectId}`)).status).toBe(204);
      expect((await http(platform.api, 'GET', `/projects/${projectId}`)).status).toBe(404);
      expect((await http(platform.api, 'GET', `/deployments/${v1.id}`)).status).toBe(404);
      await eventually(async () => {
        for (const host of hosts) expect((await viaProxy(platform.proxyPort, host)).status, host).toBe(404);
      });
      // The rest goes in the background (the data-lifecycle worker), env vars with the project row.
      await eventually(async () => {
        const left = await platform.deps.db.query('SELECT 1 FROM env_vars WHERE project_id = $1', [projectId]);
        expect(left).toEqual([]);
        // A build stopped less than the settle time (30 s) ago may still be uploading: the files wait for it.
      }, 45_000);
    });
  });

  describe('the HTTP edge', () => {
    it('serves an OpenAPI document generated from the request schemas', async () => {
      const doc = (await http(platform.api, 'GET', '/openapi.json', undefined, { authorization: '' })).json;
      expect(doc.openapi).toBe('3.0.3');
      const signup = doc.paths['/auth/signup'].post.requestBody.content['application/json'].schema;
      expect(signup.required).toEqual(expect.arrayContaining(['email', 'password']));
      expect(signup.properties.password.minLength).toBe(10);
      const env = doc.paths['/projects/{projectId}/env'].post.requestBody.content['application/json'].schema;
      expect(env.properties.targets.items.enum).toEqual(['production', 'preview']);
      expect(doc.paths['/projects/{projectId}/deployments'].get.parameters.map((p: any) => p.name)).toEqual(
        expect.arrayContaining(['projectId', 'status', 'branch', 'limit', 'before']),
      );
      expect(doc.paths['/webhooks/github'].post.security).toEqual([]);
    });

    it('answers every error in one shape, with a request id', async () => {
      const unknown = await http(platform.api, 'GET', '/no/such/route');
      expect(unknown.status).toBe(404);
      expect(unknown.json).toEqual({ error: { code: 'not_found', message: 'no route for GET /no/such/route' } });
      expect(unknown.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const mine = await http(platform.api, 'GET', '/projects', undefined, { 'x-request-id': 'trace-123' });
      expect(mine.headers.get('x-request-id')).toBe('trace-123');
      const evil = await http(platform.api, 'GET', '/projects', undefined, { 'x-request-id': 'bad id\twith tab' });
      expect(evil.headers.get('x-request-id')).not.toContain('bad');

      const big = await http(platform.api, 'POST', '/projects', { name: 'big', gitUrl: 'https://github.com/a/b.git', pad: 'x'.repeat(600_000) });
      expect(big.status).toBe(413);
      expect(big.json.error.code).toBe('body_too_large');
      const invalid = await http(platform.api, 'POST', '/projects', { name: 7 });
      expect(invalid.json.error).toMatchObject({
        code: 'invalid_body',
        details: { issues: expect.arrayContaining([expect.objectContaining({ field: 'name' })]) },
      });
    });
  });
});
