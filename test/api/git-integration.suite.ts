/**
 * The GitHub App end to end, on the embedded platform with real builds. GitHub's REST API
 * cannot run here: a recording server on loopback stands in for it (`@platform/testing/github-api`),
 * and the platform's real `@octokit/core` + `@octokit/auth-app` client is pointed at it. The
 * repository is private on a real git smart-HTTP server that accepts only installation tokens
 * that stand-in minted. Webhook payloads are GitHub's own examples (`@octokit/webhooks-examples`),
 * with the commit and branch swapped for the test repository's, signed with the App's secret.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentShortId } from '@platform/contracts';
import { repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { startGitHttpServer, type GitHttpServer } from '@platform/testing/git-http-server';
import { deliverGithub, githubExamples } from '@platform/testing/github';
import { startFakeGithub, type FakeGithub, type FakeRepository } from '@platform/testing/github-api';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

const APP_ID = 424242;
const INSTALLATION = 7001;
const WEBHOOK_SECRET = 'app-webhook-secret-0123456789';
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// The site prints the variables it was built with into what it serves.
const SITE = {
  'package.json': JSON.stringify({ name: 'pr-site', private: true, scripts: { build: 'node build.mjs' } }),
  'build.mjs': `import { mkdirSync, writeFileSync } from 'node:fs';
mkdirSync('dist', { recursive: true });
const vars = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PLATFORM') || k === 'GREETING'));
writeFileSync('dist/index.html', '<p>version=' + (process.env.npm_package_version ?? '') + ' greeting=' + (process.env.GREETING ?? '(unset)') + '</p>');
writeFileSync('dist/vars.json', JSON.stringify(vars));`,
};

/** Where the platform's metadata lives for one run of the suite (a scratch PostgreSQL database, or the embedded default). */
export interface SuiteDrivers {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export function gitIntegrationSuite(title: string, drivers: () => Promise<SuiteDrivers>): void {
  describe(title, () => {
    let driverSet: SuiteDrivers | undefined;
    const appKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let github: FakeGithub;
    let gitServer: GitHttpServer;
    let platform: TestPlatform;
    let source: string;
    let bare: string;
    let projectId: string;
    let slug: string;
    let perRepositorySecret: string;
    const repoId = githubExamples('pull_request')[0]!.repository.id as number;

    beforeAll(async () => {
      source = repoFromFixture(null, SITE);
      const root = tempDir('gh-git');
      bare = join(root, 'Hello-World.git');
      git(root, 'clone', '--quiet', '--bare', source, bare);
      github = await startFakeGithub({
        appId: APP_ID,
        appPublicKey: appKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        clientId: 'Iv1.testclient',
        clientSecret: 'client-secret-abc',
        users: {
          'code-owner': { login: 'Codertocat', installations: [{ id: INSTALLATION, account: 'Codertocat' }] },
          'code-stranger': { login: 'stranger', installations: [{ id: 9999, account: 'stranger' }] },
        },
        // Filled once the git server (and so the clone URL) exists.
        repositories: fakeRepositories,
      });
      // Only a token the stand-in minted for this installation opens the repository.
      gitServer = await startGitHttpServer(root, (password) => github.tokens.get(password)?.installationId === INSTALLATION);
      const repositories = [
        { id: repoId, full_name: 'Codertocat/Hello-World', private: true, default_branch: 'main', clone_url: `${gitServer.url}/Hello-World.git` },
      ];
      fakeRepositories[INSTALLATION] = repositories;
      driverSet = await drivers();
      platform = await startEmbeddedPlatform({
        ...driverSet.env,
        GITHUB_APP_ID: String(APP_ID),
        GITHUB_APP_PRIVATE_KEY: appKey.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        GITHUB_APP_WEBHOOK_SECRET: WEBHOOK_SECRET,
        GITHUB_APP_CLIENT_ID: 'Iv1.testclient',
        GITHUB_APP_CLIENT_SECRET: 'client-secret-abc',
        GITHUB_APP_SLUG: 'platform-test',
        GITHUB_API_URL: github.url,
        DASHBOARD_URL: 'http://dash.test',
      });
    }, 120_000);
    afterAll(async () => {
      await platform?.close();
      await gitServer?.close();
      await github?.close();
      await driverSet?.cleanup();
    });

    it('connects an installation only for a GitHub user who can reach it, then links a repository', async () => {
      const app = await http(platform.api, 'GET', '/github/app');
      expect(app.json).toEqual({ configured: true, installUrl: 'https://github.com/apps/platform-test/installations/new' });

      const stranger = await platform.signup();
      const auth = { authorization: `Bearer ${stranger.token}` };
      // Knowing the installation id is not enough: the stranger's GitHub user cannot reach it.
      const stolen = await http(platform.api, 'POST', '/github/installations', { installationId: INSTALLATION, code: 'code-stranger' }, auth);
      expect(stolen.status).toBe(403);
      expect(stolen.json.error.code).toBe('installation_not_accessible');
      const badCode = await http(platform.api, 'POST', '/github/installations', { installationId: INSTALLATION, code: 'nope' });
      expect(badCode.status).toBe(400);
      expect(badCode.json.error.code).toBe('github_sign_in_failed');

      const connected = await http(platform.api, 'POST', '/github/installations', { installationId: INSTALLATION, code: 'code-owner' });
      expect(connected.status).toBe(201);
      expect(connected.json.installation).toMatchObject({ id: INSTALLATION, accountLogin: 'Codertocat' });
      const repos = await http(platform.api, 'GET', `/github/installations/${INSTALLATION}/repositories`);
      expect(repos.json.repositories).toEqual([expect.objectContaining({ id: repoId, fullName: 'Codertocat/Hello-World', private: true })]);
      expect((await http(platform.api, 'GET', `/github/installations/${INSTALLATION}/repositories`, undefined, auth)).status).toBe(404);

      const created = await http(platform.api, 'POST', '/projects', {
        name: 'hello',
        gitUrl: 'https://github.com/Codertocat/Hello-World.git',
        productionBranch: 'main',
      });
      projectId = created.json.project.id;
      perRepositorySecret = created.json.githubWebhook.secret;
      slug = created.json.project.slug;
      const linked = await http(platform.api, 'PUT', `/projects/${projectId}/github`, { installationId: INSTALLATION, repositoryId: repoId });
      expect(linked.status, linked.text).toBe(200);
      expect(linked.json.github).toEqual({ installationId: INSTALLATION, repositoryId: repoId, fullName: 'Codertocat/Hello-World' });
      // The stranger's own project cannot be linked to the owner's installation.
      const theirs = await http(platform.api, 'POST', '/projects', { name: 'theirs', gitUrl: 'https://github.com/stranger/x.git' }, auth);
      const steal = await http(platform.api, 'PUT', `/projects/${theirs.json.project.id}/github`, { installationId: INSTALLATION, repositoryId: repoId }, auth);
      expect(steal.status).toBe(404);
      await http(platform.api, 'POST', `/projects/${projectId}/env`, { key: 'GREETING', value: 'secret-hello', targets: ['preview'] });
    });

    const pullRequest = (action: string, overrides: { sha: string; branch: string; number: number; fork?: boolean }) => {
      const payload = githubExamples('pull_request').find((p) => p.action === action && p.installation)!;
      payload.number = overrides.number;
      payload.pull_request.number = overrides.number;
      payload.pull_request.head.sha = overrides.sha;
      payload.pull_request.head.ref = overrides.branch;
      if (overrides.fork) payload.pull_request.head.repo = { ...payload.pull_request.head.repo, full_name: 'stranger/Hello-World', fork: true };
      return JSON.stringify(payload);
    };
    const commitOn = (branch: string, version: string): string => {
      git(source, 'checkout', '--quiet', '-B', branch);
      const pkg = JSON.parse(SITE['package.json']);
      execFileSync('node', ['-e', `require('fs').writeFileSync('package.json', JSON.stringify(${JSON.stringify({ ...pkg, version })}))`], { cwd: source });
      git(source, 'commit', '--quiet', '-am', `version ${version}`);
      const sha = git(source, 'rev-parse', 'HEAD');
      git(source, 'push', '--quiet', '--force', bare, `${branch}:${branch}`);
      return sha;
    };
    const statusesFor = (sha: string) =>
      github.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/statuses/${sha}`) && r.status === 201).map((r) => r.body);

    it('builds a pull request with a scoped installation token, serves its aliases, reports statuses and one comment', async () => {
      const sha = commitOn('feature', '1.0.0');
      const delivered = await deliverGithub(platform.api, 'pull_request', pullRequest('opened', { sha, branch: 'feature', number: 2 }), {
        secret: WEBHOOK_SECRET,
      });
      expect(delivered.status, delivered.text).toBe(202);
      const [result] = delivered.json.results;
      expect(result).toMatchObject({ projectId, outcome: 'deployed' });
      const deployment = await waitForDeployment(platform.api, result.deploymentId);
      expect(deployment).toMatchObject({ status: 'READY', target: 'preview', ref: 'feature', commit: sha });

      // The token exchange: the App's JWT (RS256, verified by the stand-in), claims as GitHub requires.
      const exchange = github.requests.find((r) => r.path === `/app/installations/${INSTALLATION}/access_tokens` && r.body?.repository_ids);
      expect(exchange?.body).toEqual({ repository_ids: [repoId], permissions: { contents: 'read' } });
      const claims = github.jwtClaims[0]!;
      expect(claims.iss).toBe(APP_ID);
      expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(660);
      expect(Number(claims.iat)).toBeLessThanOrEqual(Date.now() / 1000);
      // The clone used a token the stand-in minted for this repository only.
      const cloneAuth = gitServer.authHeaders.filter(Boolean).at(-1)!;
      const cloneToken = Buffer.from(cloneAuth.slice('Basic '.length), 'base64').toString().split(':')[1]!;
      expect(github.tokens.get(cloneToken)?.body).toEqual({ repository_ids: [repoId], permissions: { contents: 'read' } });
      const log = await http(platform.api, 'GET', `/deployments/${deployment.id}/logs`);
      expect(log.text).not.toContain(cloneToken);

      const vars = (await viaProxy(platform.proxyPort, `${slug}-pr-2.localhost`, '/vars.json')).json;
      expect(vars).toMatchObject({
        PLATFORM: '1',
        PLATFORM_ENV: 'preview',
        PLATFORM_GIT_PROVIDER: 'github',
        PLATFORM_GIT_REPO_OWNER: 'Codertocat',
        PLATFORM_GIT_REPO_SLUG: 'Hello-World',
        PLATFORM_GIT_COMMIT_REF: 'feature',
        PLATFORM_GIT_COMMIT_SHA: sha,
        PLATFORM_GIT_COMMIT_MESSAGE: 'version 1.0.0',
        PLATFORM_GIT_PULL_REQUEST_ID: '2',
        PLATFORM_BRANCH_URL: `${slug}-git-feature.localhost:${platform.proxyPort}`,
        PLATFORM_PROJECT_PRODUCTION_URL: `${slug}.localhost:${platform.proxyPort}`,
        GREETING: 'secret-hello',
      });
      expect((await viaProxy(platform.proxyPort, `${slug}-git-feature.localhost`, '/')).text).toContain('version=1.0.0');

      const deploymentUrl = `http://${slug}-${deploymentShortId(deployment.id)}.localhost:${platform.proxyPort}`;
      const statuses = await until('the success status', () => {
        const s = statusesFor(sha);
        return s.some((x) => x.state === 'success') ? s : undefined;
      });
      expect(statuses.map((s) => s.state)).toEqual([...statuses.slice(0, -1).map(() => 'pending'), 'success']);
      expect(statuses[0]).toMatchObject({ context: 'platform', target_url: `http://dash.test/dashboard/deployments/${deployment.id}` });
      expect(statuses.at(-1)!.target_url).toBe(deploymentUrl);
      const comments = await until('the ready comment', () => {
        const all = github.requests.filter((r) => r.path.includes('/issues/') && r.status < 300);
        return all.some((r) => String(r.body?.body).includes('Ready')) ? all : undefined;
      });
      expect(comments.filter((r) => r.method === 'POST')).toHaveLength(1);
      expect(comments[0]!.path).toBe('/repos/Codertocat/Hello-World/issues/2/comments');
    });

    it('edits the same comment on the next push, and retries GitHub after a 502 without failing the deployment', async () => {
      const sha = commitOn('feature', '1.1.0');
      github.failNext(/\/statuses\//, 2, 502);
      github.failNext(/\/issues\/comments\//, 1, 502);
      const delivered = await deliverGithub(platform.api, 'pull_request', pullRequest('synchronize', { sha, branch: 'feature', number: 2 }), {
        secret: WEBHOOK_SECRET,
      });
      const deployment = await waitForDeployment(platform.api, delivered.json.results[0].deploymentId);
      expect(deployment.status).toBe('READY');
      await until('the success status after the retries', () => statusesFor(sha).some((s) => s.state === 'success') || undefined, 60_000);
      const failed = github.requests.filter((r) => r.status === 502);
      expect(failed.length).toBe(3);
      const edits = await until(
        'the edited comment',
        () => {
          const e = github.requests.filter(
            (r) => r.method === 'PATCH' && r.status === 200 && String(r.body?.body).includes(sha.slice(0, 7)) && String(r.body?.body).includes('Ready'),
          );
          return e.length > 0 ? e : undefined;
        },
        60_000,
      );
      // The one comment created on the first push is the one edited.
      const created = github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/issues/2/comments') && r.status === 201);
      expect(created).toHaveLength(1);
      expect(edits[0]!.path).toBe('/repos/Codertocat/Hello-World/issues/comments/1001');
      expect((await viaProxy(platform.proxyPort, `${slug}-pr-2.localhost`, '/')).text).toContain('version=1.1.0');
    });

    it("holds a fork's pull request for the owner's approval, then builds it without the project's env vars", async () => {
      const sha = commitOn('fork-work', '9.9.9');
      // GitHub keeps a fork's head in the base repository under refs/pull/<n>/head.
      git(source, 'push', '--quiet', '--force', bare, `fork-work:refs/pull/5/head`);
      const delivered = await deliverGithub(platform.api, 'pull_request', pullRequest('opened', { sha, branch: 'main', number: 5, fork: true }), {
        secret: WEBHOOK_SECRET,
      });
      expect(delivered.status).toBe(200);
      expect(delivered.json.results[0]).toMatchObject({ outcome: 'awaiting_approval', deploymentId: null });
      const prs = (await http(platform.api, 'GET', `/projects/${projectId}/pull-requests`)).json.pullRequests;
      expect(prs.find((p: any) => p.number === 5)).toMatchObject({ fork: true, awaitingApproval: sha, branch: 'pull/5/head' });
      const before = (await http(platform.api, 'GET', `/projects/${projectId}/deployments?limit=100`)).json.deployments.length;

      const stranger = await platform.signup();
      const notTheirs = await http(platform.api, 'POST', `/projects/${projectId}/pull-requests/5/approve`, undefined, {
        authorization: `Bearer ${stranger.token}`,
      });
      expect(notTheirs.status).toBe(404);
      expect((await http(platform.api, 'GET', `/projects/${projectId}/deployments?limit=100`)).json.deployments.length).toBe(before);

      const approved = await http(platform.api, 'POST', `/projects/${projectId}/pull-requests/5/approve`);
      expect(approved.status, approved.text).toBe(202);
      expect((await http(platform.api, 'POST', `/projects/${projectId}/pull-requests/5/approve`)).status).toBe(409);
      const deployment = await waitForDeployment(platform.api, approved.json.deployment.id);
      expect(deployment).toMatchObject({ status: 'READY', ref: 'pull/5/head', commit: sha });
      const vars = (await viaProxy(platform.proxyPort, `${slug}-pr-5.localhost`, '/vars.json')).json;
      expect(vars.GREETING).toBeUndefined();
      expect(vars.PLATFORM_GIT_PULL_REQUEST_ID).toBe('5');
      // The fork's branch is named `main`: the production alias is not its to take.
      expect((await viaProxy(platform.proxyPort, `${slug}.localhost`, '/')).status).toBe(404);
    });

    it('closing a pull request removes its aliases (the proxy answers 404); a deleted branch too', async () => {
      expect((await viaProxy(platform.proxyPort, `${slug}-pr-2.localhost`, '/')).status).toBe(200);
      const sha = git(source, 'rev-parse', 'feature');
      const closed = await deliverGithub(platform.api, 'pull_request', pullRequest('closed', { sha, branch: 'feature', number: 2 }), {
        secret: WEBHOOK_SECRET,
      });
      expect(closed.json.results[0]).toMatchObject({ outcome: 'unpublished' });
      // The proxy may serve a route record for its cache TTL (200 ms here) after it is removed.
      await until(
        'the PR alias to answer 404',
        async () => (await viaProxy(platform.proxyPort, `${slug}-pr-2.localhost`, '/')).status === 404 || undefined,
        5_000,
      );
      await until(
        'the branch alias to answer 404',
        async () => (await viaProxy(platform.proxyPort, `${slug}-git-feature.localhost`, '/')).status === 404 || undefined,
        5_000,
      );
      expect((await http(platform.api, 'GET', `/projects/${projectId}/pull-requests`)).json.pullRequests.find((p: any) => p.number === 2).state).toBe('closed');

      // A branch pushed (deployed by the App's push webhook), then deleted with a `delete` event.
      const other = commitOn('topic', '2.0.0');
      const push = githubExamples('push').find((p) => String(p.ref).startsWith('refs/heads/') && !p.deleted)!;
      Object.assign(push, { ref: 'refs/heads/topic', after: other });
      const pushed = await deliverGithub(platform.api, 'push', JSON.stringify(push), { secret: WEBHOOK_SECRET });
      expect(pushed.status, pushed.text).toBe(202);
      await waitForDeployment(platform.api, pushed.json.results[0].deploymentId);
      expect((await viaProxy(platform.proxyPort, `${slug}-git-topic.localhost`, '/')).status).toBe(200);
      // The same push through the project's own per-repository webhook: the App's replaces it, so no second build.
      const twice = await deliverGithub(platform.api, 'push', JSON.stringify(push), { secret: perRepositorySecret, query: `?projectId=${projectId}` });
      expect(twice.status, twice.text).toBe(200);
      expect(twice.json.results[0]).toMatchObject({ outcome: 'ignored', detail: "the GitHub App's webhook delivers this repository's events" });
      const deletion = { ...githubExamples('delete')[0]!, ref: 'topic', ref_type: 'branch' };
      const deleted = await deliverGithub(platform.api, 'delete', JSON.stringify(deletion), { secret: WEBHOOK_SECRET });
      expect(deleted.json.results[0]).toMatchObject({ outcome: 'unpublished', detail: 'branch topic was deleted' });
      await until(
        'the deleted branch to answer 404',
        async () => (await viaProxy(platform.proxyPort, `${slug}-git-topic.localhost`, '/')).status === 404 || undefined,
        5_000,
      );
    });
  });
}

const fakeRepositories: Record<number, FakeRepository[]> = {};
