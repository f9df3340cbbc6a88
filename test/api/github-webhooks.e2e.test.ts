import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverGithub, githubBranchPush, githubExamples, githubSignature } from '@platform/testing/github';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

// GitHub webhooks with real payloads from @octokit/webhooks-examples, signed the way GitHub
// signs them (X-Hub-Signature-256: HMAC-SHA256 of the raw body with the webhook's secret).
describe('GitHub webhooks', () => {
  let platform: TestPlatform;
  let prod: { id: string; secret: string };
  let preview: { id: string; secret: string };

  const deploymentsOf = async (projectId: string) =>
    (await http(platform.api, 'GET', `/projects/${projectId}/deployments?limit=100`)).json.deployments as any[];

  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ LOGIN_RATE_LIMIT_PER_MINUTE: '5', WEBHOOK_RATE_LIMIT_PER_MINUTE: '100', ALLOW_PRIVATE_WEBHOOK_URLS: 'false' });
    // Two projects building the example's repository, known by two URL forms; each has its own secret.
    const a = await http(platform.api, 'POST', '/projects', {
      name: 'hello-prod',
      gitUrl: 'https://github.com/Codertocat/Hello-World.git',
      productionBranch: 'master',
    });
    const b = await http(platform.api, 'POST', '/projects', {
      name: 'hello-preview',
      gitUrl: 'git@github.com:Codertocat/Hello-World.git',
      productionBranch: 'main',
    });
    expect(a.status).toBe(201);
    expect(a.json.githubWebhook.secret).toMatch(/^ghs_/);
    prod = { id: a.json.project.id, secret: a.json.githubWebhook.secret };
    preview = { id: b.json.project.id, secret: b.json.githubWebhook.secret };
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('deploys a push to the production branch to production, and to another branch as a preview', async () => {
    const push = githubBranchPush();
    const body = JSON.stringify(push);
    const toProd = await deliverGithub(platform.api, 'push', body, { secret: prod.secret });
    expect(toProd.status).toBe(202);
    expect(toProd.json.results).toEqual([expect.objectContaining({ projectId: prod.id, outcome: 'deployed', duplicate: false })]);
    const [d1] = await deploymentsOf(prod.id);
    expect(d1).toMatchObject({ id: toProd.json.results[0].deploymentId, target: 'production', ref: 'master', commit: push.after });

    // The same repository, the other project's secret: only that project deploys, as a preview.
    const toPreview = await deliverGithub(platform.api, 'push', body, { secret: preview.secret });
    expect(toPreview.status).toBe(202);
    expect(toPreview.json.results).toEqual([expect.objectContaining({ projectId: preview.id, outcome: 'deployed' })]);
    expect(await deploymentsOf(preview.id)).toEqual([expect.objectContaining({ target: 'preview', ref: 'master', commit: push.after })]);
    expect(await deploymentsOf(prod.id)).toHaveLength(1);
  });

  it('answers 401 to a tampered body, a wrong secret or no signature, and deploys nothing', async () => {
    const body = JSON.stringify(githubBranchPush());
    const before = (await deploymentsOf(prod.id)).length;
    const signature = githubSignature(prod.secret, body);
    const tampered = body.replace('"master"', '"evil"');
    expect(tampered).not.toBe(body);
    const cases = [
      await deliverGithub(platform.api, 'push', tampered, { signature }),
      await deliverGithub(platform.api, 'push', body, { secret: 'not-the-secret' }),
      await deliverGithub(platform.api, 'push', body, {}),
      await deliverGithub(platform.api, 'push', body, { signature: `sha1=${'a'.repeat(40)}` }),
      await deliverGithub(platform.api, 'push', body, { signature: signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0') }),
      // A valid signature for a project that builds another repository.
      await deliverGithub(platform.api, 'push', body.replaceAll('Codertocat/Hello-World', 'someone/else'), { secret: prod.secret }),
    ];
    for (const res of cases) {
      expect(res.status).toBe(401);
      expect(res.json.error.code).toMatch(/^(missing|invalid)_signature$/);
    }
    expect(await deploymentsOf(prod.id)).toHaveLength(before);
  });

  it('makes one deployment from the same delivery sent twice, even at once', async () => {
    const body = JSON.stringify(githubBranchPush());
    const deliveryId = crypto.randomUUID();
    const before = (await deploymentsOf(prod.id)).length;
    const [first, second] = await Promise.all([
      deliverGithub(platform.api, 'push', body, { secret: prod.secret, deliveryId }),
      deliverGithub(platform.api, 'push', body, { secret: prod.secret, deliveryId }),
    ]);
    const third = await deliverGithub(platform.api, 'push', body, { secret: prod.secret, deliveryId });
    expect([first!.status, second!.status].sort()).toEqual([200, 202]);
    expect(third.json.results[0]).toMatchObject({ duplicate: true, outcome: 'deployed' });
    expect(await deploymentsOf(prod.id)).toHaveLength(before + 1);

    // The delivery is stored; redelivering it on purpose deploys again.
    const deliveries = (await http(platform.api, 'GET', `/projects/${prod.id}/github-webhook/deliveries`)).json.deliveries as any[];
    const stored = deliveries.find((d) => d.deliveryId === deliveryId);
    expect(stored).toMatchObject({ event: 'push', outcome: 'deployed' });
    const again = await http(platform.api, 'POST', `/projects/${prod.id}/github-webhook/deliveries/${deliveryId}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.json.result.deploymentId).not.toBe(stored.deploymentId);
    expect(await deploymentsOf(prod.id)).toHaveLength(before + 2);
    expect((await http(platform.api, 'POST', `/projects/${prod.id}/github-webhook/deliveries/nope/redeliver`)).status).toBe(404);
  });

  it('ignores tag pushes and branch deletions, and answers ping', async () => {
    const before = (await deploymentsOf(prod.id)).length;
    for (const push of githubExamples('push').filter((p) => String(p.ref).startsWith('refs/tags/'))) {
      const res = await deliverGithub(platform.api, 'push', JSON.stringify(push), { secret: prod.secret });
      expect(res.status).toBe(200);
      expect(res.json.results[0]).toMatchObject({ outcome: 'ignored' });
    }
    // The examples hold no branch deletion; this is the branch push turned into one, as GitHub sends it.
    const deletion = {
      ...githubBranchPush(),
      ref: 'refs/heads/master',
      before: githubBranchPush().after,
      after: '0'.repeat(40),
      created: false,
      deleted: true,
      head_commit: null,
      commits: [],
    };
    const deleted = await deliverGithub(platform.api, 'push', JSON.stringify(deletion), { secret: prod.secret });
    expect(deleted.json.results[0]).toMatchObject({ outcome: 'ignored', detail: 'branch master was deleted' });

    // The ping example comes from another repository: the hook URL names the project.
    const ping = githubExamples('ping').find((p) => p.repository)!;
    expect((await deliverGithub(platform.api, 'ping', JSON.stringify(ping), { secret: prod.secret })).status).toBe(401);
    const pong = await deliverGithub(platform.api, 'ping', JSON.stringify(ping), { secret: prod.secret, query: `?projectId=${prod.id}` });
    expect(pong.status).toBe(200);
    expect(pong.json.results[0]).toMatchObject({ outcome: 'pong', detail: ping.zen });
    expect(await deploymentsOf(prod.id)).toHaveLength(before);
  });

  it('accepts GitHub’s form-encoded content type, signed over the form body', async () => {
    const body = new URLSearchParams({ payload: JSON.stringify(githubBranchPush()) }).toString();
    const res = await deliverGithub(platform.api, 'push', body, { secret: prod.secret, contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(202);
    expect(res.json.results[0]).toMatchObject({ projectId: prod.id, outcome: 'deployed' });
  });

  it('builds and serves the pushed commit end to end', async () => {
    const repo = gitRepoFromFixture('env-site');
    const created = await http(platform.api, 'POST', '/projects', { name: 'pushed-site', gitUrl: repo });
    const { id } = created.json.project;
    writeFileSync(join(repo, 'version.txt'), 'pushed\n');
    const sha = gitCommitAll(repo, 'second commit');
    // The real payload, pointed at this repository's branch and commit; the project named in the URL.
    const push = { ...githubBranchPush(), ref: 'refs/heads/main', after: sha };
    const res = await deliverGithub(platform.api, 'push', JSON.stringify(push), { secret: created.json.githubWebhook.secret, query: `?projectId=${id}` });
    expect(res.status).toBe(202);
    const done = await waitForDeployment(platform.api, res.json.results[0].deploymentId);
    expect(done).toMatchObject({ status: 'READY', commit: sha, target: 'production' });
    expect((await viaProxy(platform.proxyPort, 'pushed-site.localhost')).text).toContain('version=pushed');
  });

  it('rotates the webhook secret: the old one stops working', async () => {
    const rotated = await http(platform.api, 'POST', `/projects/${preview.id}/github-webhook/secret`);
    expect(rotated.status).toBe(200);
    const body = JSON.stringify(githubBranchPush());
    expect((await deliverGithub(platform.api, 'push', body, { secret: preview.secret })).status).toBe(401);
    expect((await deliverGithub(platform.api, 'push', body, { secret: rotated.json.githubWebhook.secret })).status).toBe(202);
  });

  it('deploy hooks: a secret URL deploys its branch; a wrong or deleted one is 404', async () => {
    const hook = await http(platform.api, 'POST', `/projects/${preview.id}/deploy-hooks`, { name: 'cms', branch: 'content' });
    expect(hook.status).toBe(201);
    expect(hook.json.url).toMatch(/^\/deploy-hooks\/dh_/);
    const list = await http(platform.api, 'GET', `/projects/${preview.id}/deploy-hooks`);
    expect(list.text).not.toContain(hook.json.url.split('/').pop());
    const fired = await http(platform.api, 'POST', hook.json.url, undefined, { authorization: '' });
    expect(fired.status).toBe(202);
    const d = (await http(platform.api, 'GET', `/deployments/${fired.json.job.deploymentId}`)).json.deployment;
    expect(d).toMatchObject({ projectId: preview.id, ref: 'content', target: 'preview' });
    expect((await http(platform.api, 'POST', `${hook.json.url}x`, undefined, { authorization: '' })).status).toBe(404);
    expect((await http(platform.api, 'DELETE', `/projects/${preview.id}/deploy-hooks/${hook.json.hook.id}`)).status).toBe(204);
    expect((await http(platform.api, 'POST', hook.json.url, undefined, { authorization: '' })).status).toBe(404);
  });

  it('refuses notification URLs that reach private addresses (the default)', async () => {
    for (const url of [
      'http://127.0.0.1:4566/',
      'http://localhost:9000/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/',
      'http://10.0.0.8/hook',
    ]) {
      const res = await http(platform.api, 'POST', `/projects/${prod.id}/notifications`, { url });
      expect(res.status, url).toBe(400);
      expect(res.json.error.message).toContain('ALLOW_PRIVATE_WEBHOOK_URLS');
    }
    expect((await http(platform.api, 'GET', `/projects/${prod.id}/notifications`)).json.endpoints).toEqual([]);
  });

  it('rate-limits webhook and deploy-hook requests per client address', async () => {
    const body = JSON.stringify(githubExamples('ping')[0]);
    let first429 = -1;
    for (let i = 0; i < 120 && first429 < 0; i++) {
      const res = await deliverGithub(platform.api, 'ping', body, { secret: 'whatever' });
      if (res.status === 429) first429 = i;
      else expect(res.status).toBe(401);
    }
    // 100 a minute, shared with the deploy hooks and the deliveries of the tests above.
    expect(first429).toBeGreaterThan(0);
    expect(first429).toBeLessThan(100);
    expect((await http(platform.api, 'POST', '/deploy-hooks/dh_anything', undefined, { authorization: '' })).status).toBe(429);
    // Signed-in API routes are not affected.
    expect((await http(platform.api, 'GET', '/projects')).status).toBe(200);
  });

  it('rate-limits login per account and client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(
        (await http(platform.api, 'POST', '/auth/login', { email: 'owner@example.test', password: 'wrong password' }, { authorization: '' })).status,
      );
    }
    // 5 per minute for this account from this address; sign-up has a bucket of its own.
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const limited = await http(
      platform.api,
      'POST',
      '/auth/login',
      { email: 'owner@example.test', password: 'correct horse battery staple' },
      { authorization: '' },
    );
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.json.error.code).toBe('rate_limited');
  });
});
