import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { githubExamples, deliverGithub } from '@platform/testing/github';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';

/** A content hash no account has uploaded. */
const HASH = 'a'.repeat(64);
import { viaProxy } from '@platform/testing/proxy';

// Cross-tenant battery: a second user gets 404 or 403 on every route and socket subscription
// that touches the first user's projects, deployments, logs, env vars, hooks and analytics.
describe('tenant isolation', () => {
  let platform: TestPlatform;
  let owner: string;
  let stranger: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    platform = await startEmbeddedPlatform();
    owner = platform.token;
    stranger = (await platform.signup('stranger@example.test')).token;
    const as = (token: string) => ({ authorization: `Bearer ${token}` });

    const created = await http(platform.api, 'POST', '/projects', { name: 'private-site', gitUrl: gitRepoFromFixture('env-site') }, as(owner));
    ids.projectId = created.json.project.id;
    const env = await http(platform.api, 'POST', `/projects/${ids.projectId}/env`, { key: 'GREETING', value: 'owner-secret-value' }, as(owner));
    ids.envId = env.json.envVars[0].id;
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: ids.projectId }, as(owner));
    ids.deploymentId = (await waitForDeployment(platform.api, deploy.json.deployment.id)).id;
    const hook = await http(platform.api, 'POST', `/projects/${ids.projectId}/deploy-hooks`, { name: 'cms', branch: 'main' }, as(owner));
    ids.hookId = hook.json.hook.id;
    const endpoint = await http(platform.api, 'POST', `/projects/${ids.projectId}/notifications`, { url: 'http://127.0.0.1:9/hook' }, as(owner));
    ids.endpointId = endpoint.json.endpoint.id;
    const ping = githubExamples('ping')[0]!;
    ids.deliveryId = crypto.randomUUID();
    await deliverGithub(platform.api, 'ping', JSON.stringify(ping), {
      secret: created.json.githubWebhook.secret,
      query: `?projectId=${ids.projectId}`,
      deliveryId: ids.deliveryId,
    });
    const token = await http(platform.api, 'POST', '/auth/tokens', { name: 'ci' }, as(owner));
    ids.tokenId = token.json.token.id;
  });
  afterAll(async () => {
    await platform?.close();
  });

  /** Every route that names a project, a deployment or another user's resource. */
  const battery = (): [string, string, unknown?][] => {
    const p = `/projects/${ids.projectId}`;
    const d = `/deployments/${ids.deploymentId}`;
    return [
      ['GET', p],
      ['PATCH', p, { name: 'taken over' }],
      ['DELETE', p],
      ['GET', `${p}/deployments`],
      ['GET', `${p}/deployments?status=READY`],
      ['POST', '/deploy', { projectId: ids.projectId }],
      ['GET', d],
      ['GET', `${d}/logs`],
      ['POST', `${d}/cancel`, {}],
      ['POST', `${d}/redeploy`, {}],
      ['POST', `${d}/promote`, {}],
      ['POST', `${p}/env`, { key: 'INJECTED', value: 'x' }],
      ['GET', `${p}/env`],
      ['PATCH', `${p}/env/${ids.envId}`, { value: 'overwritten' }],
      ['DELETE', `${p}/env/${ids.envId}`],
      ['POST', `${p}/github-webhook/secret`],
      ['GET', `${p}/github-webhook/deliveries`],
      ['POST', `${p}/github-webhook/deliveries/${ids.deliveryId}/redeliver`],
      ['POST', `${p}/deploy-hooks`, { name: 'x', branch: 'main' }],
      ['GET', `${p}/deploy-hooks`],
      ['DELETE', `${p}/deploy-hooks/${ids.hookId}`],
      ['POST', `${p}/notifications`, { url: 'http://127.0.0.1:9/x' }],
      ['GET', `${p}/notifications`],
      ['GET', `${p}/notifications/${ids.endpointId}/deliveries`],
      ['DELETE', `${p}/notifications/${ids.endpointId}`],
      // Custom domains (claiming, reading, retrying, removing; test/api/domains.e2e.test.ts has more).
      ['POST', `${p}/domains`, { hostname: 'stolen.example.test' }],
      ['GET', `${p}/domains`],
      ['GET', `${p}/domains/owned.example.test`],
      ['POST', `${p}/domains/owned.example.test/verify`, {}],
      ['DELETE', `${p}/domains/owned.example.test`],
      // The git integration: repository link, clone credentials, pull requests and a fork's approval.
      ['PUT', `${p}/github`, { installationId: 1, repositoryId: 1 }],
      ['GET', `${p}/github`],
      ['DELETE', `${p}/github`],
      ['PUT', `${p}/git-credentials`, { kind: 'ssh-key' }],
      ['GET', `${p}/git-credentials`],
      ['DELETE', `${p}/git-credentials`],
      ['GET', `${p}/pull-requests`],
      ['POST', `${p}/pull-requests/1/approve`],
      // Analytics (served by the proxy work's routes under the same guard).
      ['GET', `${p}/analytics`],
      ['GET', `${p}/analytics?from=2020-01-01T00:00:00Z`],
      // Data lifecycle: deleting a deployment, retention, storage usage.
      ['DELETE', d],
      ['GET', `${p}/retention`],
      ['PATCH', `${p}/retention`, { keepPerBranch: 1 }],
      ['GET', `${p}/usage`],
      // Direct uploads (the CLI): which contents are missing, one content, a deployment from a manifest.
      ['POST', `${p}/uploads/missing`, { files: [{ hash: HASH, size: 1 }] }],
      ['POST', `${p}/uploads/${HASH}?path=index.html`, '{}'],
      ['POST', `${p}/deployments/upload`, { files: [{ path: 'index.html', hash: HASH, size: 1 }] }],
      ['DELETE', `/auth/tokens/${ids.tokenId}`],
    ];
  };

  it('covers every route of the OpenAPI document that takes a project or deployment id', async () => {
    const doc = (await http(platform.api, 'GET', '/openapi.json')).json;
    const covered = new Set(
      battery().map(([method, path]) => {
        const template = path
          .split('?')[0]!
          .replace(ids.projectId!, '{projectId}')
          .replace(ids.deploymentId!, '{deploymentId}')
          .replace(ids.envId!, '{envId}')
          .replace(ids.hookId!, '{hookId}')
          .replace(ids.endpointId!, '{endpointId}')
          .replace(ids.deliveryId!, '{deliveryId}')
          .replace(ids.tokenId!, '{tokenId}')
          .replace('owned.example.test', '{hostname}')
          .replace('/pull-requests/1/', '/pull-requests/{number}/')
          .replace(HASH, '{hash}');
        return `${method.toLowerCase()} ${template}`;
      }),
    );
    const needed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      /\{(projectId|deploymentId|tokenId)\}/.test(path) ? Object.keys(ops).map((m) => `${m} ${path}`) : [],
    );
    expect(needed.length).toBeGreaterThan(20);
    expect(needed.filter((n) => !covered.has(n))).toEqual([]);
    expect(covered.has('post /deploy')).toBe(true);
  });

  it('answers 404 to a stranger on every one of them, and 401 to nobody signed in', async () => {
    for (const [method, path, body] of battery()) {
      const res = await http(platform.api, method, path, body, { authorization: `Bearer ${stranger}` });
      expect([403, 404], `${method} ${path} → ${res.status} ${res.text}`).toContain(res.status);
      expect(res.json.error.code).toBe('not_found');
      // Nothing of the owner's leaks into the answer.
      expect(res.text).not.toContain('private-site');
      expect(res.text).not.toContain('owner-secret-value');
      const anonymous = await http(platform.api, method, path, body, { authorization: '' });
      expect(anonymous.status, `${method} ${path} anonymous`).toBe(401);
    }
    // The stranger's own lists are empty.
    expect((await http(platform.api, 'GET', '/projects', undefined, { authorization: `Bearer ${stranger}` })).json.projects).toEqual([]);
  });

  it('left everything of the owner as it was', async () => {
    const project = await http(platform.api, 'GET', `/projects/${ids.projectId}`);
    expect(project.json.project).toMatchObject({ name: 'private-site', productionDeploymentId: ids.deploymentId });
    expect((await http(platform.api, 'GET', `/projects/${ids.projectId}/env`)).json.envVars).toHaveLength(2);
    expect((await http(platform.api, 'GET', `/projects/${ids.projectId}/deployments`)).json.deployments).toHaveLength(1);
    expect((await http(platform.api, 'GET', `/projects/${ids.projectId}/deploy-hooks`)).json.hooks).toHaveLength(1);
    expect((await http(platform.api, 'GET', `/projects/${ids.projectId}/notifications`)).json.endpoints).toHaveLength(1);
    expect((await http(platform.api, 'GET', '/auth/tokens')).json.tokens[0].revokedAt).toBeNull();
    expect((await http(platform.api, 'GET', `/projects/${ids.projectId}/retention`)).json.retention.project.keepPerBranch).toBeNull();
    expect((await viaProxy(platform.proxyPort, 'private-site.localhost')).text).toContain('greeting=owner-secret-value');
    // The owner passes the guard where the stranger did not (analytics is mounted by another module).
    const analytics = await http(platform.api, 'GET', `/projects/${ids.projectId}/analytics`);
    expect(analytics.json?.error?.message).not.toBe('project not found');
  });

  describe('socket.io live logs', () => {
    const connect = (token?: string) =>
      io(platform.api, { transports: ['websocket'], reconnection: false, forceNew: true, ...(token !== undefined ? { auth: { token } } : {}) });
    const connected = (socket: Socket) =>
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
    const subscribe = (socket: Socket, deploymentId: string) => new Promise<any>((resolve) => socket.emit('subscribe', { deploymentId, afterSeq: 0 }, resolve));

    it('refuses a connection without a valid token', async () => {
      for (const token of [undefined, '', 'garbage', `${owner}x`]) {
        const socket = connect(token);
        await expect(connected(socket)).rejects.toThrow(/unauthenticated/);
        socket.close();
      }
    });

    it('does not let a stranger subscribe to the owner’s deployment, and streams it to the owner', async () => {
      const spy = connect(stranger);
      await connected(spy);
      const received: unknown[] = [];
      spy.on('log', (e) => received.push(e));
      spy.on('status', (e) => received.push(e));
      expect(await subscribe(spy, ids.deploymentId!)).toEqual({ ok: false, error: 'deployment not found' });
      expect(await subscribe(spy, 'doesnotexist')).toEqual({ ok: false, error: 'deployment not found' });
      // Hostile subscriptions are refused, and the server keeps serving.
      for (const bad of ['\u0000', `${ids.deploymentId}\u0000`, 'x'.repeat(65), '../x', '']) {
        expect((await subscribe(spy, bad)).ok).toBe(false);
      }

      const mine = connect(owner);
      await connected(mine);
      const lines: any[] = [];
      // History replays every status event (BUILDING first); the stream ends at the terminal one.
      const ended = new Promise<any>((resolve) => mine.on('status', (e) => ['READY', 'ERROR', 'CANCELED'].includes(e.status) && resolve(e)));
      mine.on('log', (e) => lines.push(e));
      expect(await subscribe(mine, ids.deploymentId!)).toMatchObject({ ok: true, status: 'READY' });
      expect(await ended).toMatchObject({ status: 'READY' });
      expect(lines.map((l) => l.message)).toContain('built version 1');
      // By now the owner has the whole log; the stranger got nothing of it.
      expect(received).toEqual([]);
      spy.close();
      mine.close();
    });
  });
});
