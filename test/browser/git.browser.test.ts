/**
 * The git integration in the dashboard, in Debian's Chromium: the GitHub App's setup redirect
 * connects an installation, the project's Git card picks a repository, a fork's pull request
 * (a real `@octokit/webhooks-examples` payload, signed with the App's secret) waits for the
 * owner's Approve, and the preview's page shows its pull request. GitHub's REST API cannot run
 * here: the recording stand-in on loopback (`@platform/testing/github-api`) answers the
 * platform's real octokit client.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium, screenshot } from '@platform/testing/browser';
import { repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { startGitHttpServer, type GitHttpServer } from '@platform/testing/git-http-server';
import { deliverGithub, githubExamples } from '@platform/testing/github';
import { startFakeGithub, type FakeGithub, type FakeRepository } from '@platform/testing/github-api';
import { http } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';

const INSTALLATION = 8123;
const SECRET = 'browser-app-webhook-secret-123';
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

describe('git integration in the dashboard (Chromium)', () => {
  const appKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const repositories: Record<number, FakeRepository[]> = {};
  const repoId = githubExamples('pull_request')[0]!.repository.id as number;
  let github: FakeGithub;
  let gitServer: GitHttpServer;
  let platform: TestPlatform;
  let browser: Browser;
  let sha: string;

  beforeAll(async () => {
    const source = repoFromFixture(null, { 'index.html': '<p>fork preview</p>' });
    sha = git(source, 'rev-parse', 'HEAD');
    const root = tempDir('gh-browser');
    const bare = join(root, 'Hello-World.git');
    git(root, 'clone', '--quiet', '--bare', source, bare);
    git(source, 'push', '--quiet', bare, 'HEAD:refs/pull/9/head');
    github = await startFakeGithub({
      appId: 77,
      appPublicKey: appKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      clientId: 'Iv1.browser',
      clientSecret: 'browser-client-secret',
      users: { 'setup-code': { login: 'Codertocat', installations: [{ id: INSTALLATION, account: 'Codertocat' }] } },
      repositories,
    });
    gitServer = await startGitHttpServer(root, (password) => github.tokens.has(password));
    repositories[INSTALLATION] = [
      { id: repoId, full_name: 'Codertocat/Hello-World', private: true, default_branch: 'main', clone_url: `${gitServer.url}/Hello-World.git` },
    ];
    [platform, browser] = await Promise.all([
      startEmbeddedPlatform({
        GITHUB_APP_ID: '77',
        GITHUB_APP_PRIVATE_KEY: appKey.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        GITHUB_APP_WEBHOOK_SECRET: SECRET,
        GITHUB_APP_CLIENT_ID: 'Iv1.browser',
        GITHUB_APP_CLIENT_SECRET: 'browser-client-secret',
        GITHUB_APP_SLUG: 'platform-browser',
        GITHUB_API_URL: github.url,
      }),
      launchChromium(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
    await gitServer?.close();
    await github?.close();
  });

  it('connects the App, picks a repository, approves a fork build and shows the preview’s pull request', async () => {
    const created = await http(platform.api, 'POST', '/projects', { name: 'hello', gitUrl: 'https://github.com/Codertocat/Hello-World.git' });
    const project = created.json.project;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors = collectPageErrors(page);
    await page.addInitScript((token: string) => (globalThis as any).localStorage.setItem('platform.session', token), platform.token);

    // Before any installation: the card offers the App's install link.
    await page.goto(`${platform.api}/dashboard/projects/${project.id}`);
    const install = page.getByRole('link', { name: 'Connect the GitHub App' });
    await install.waitFor();
    expect(await install.getAttribute('href')).toBe('https://github.com/apps/platform-browser/installations/new');

    // GitHub sends the user back to the setup URL with the installation and a sign-in code.
    await page.goto(`${platform.api}/dashboard/github/setup?installation_id=${INSTALLATION}&code=setup-code&setup_action=install`);
    await page.getByText('Connected the installation on Codertocat.').waitFor();
    await screenshot(page, 'git-01-setup');

    await page.goto(`${platform.api}/dashboard/projects/${project.id}`);
    const picker = page.getByLabel('Repository');
    // The first call to GitHub signs the App's JWT and exchanges it: allow it a few seconds.
    await expect.poll(() => picker.locator('option').first().textContent(), { timeout: 15_000 }).toBe('Codertocat/Hello-World (private)');
    await page.getByRole('button', { name: 'Use this repository' }).click();
    await page.getByText('Linked: pushes and pull requests of this repository now build here.').waitFor();
    expect((await http(platform.api, 'GET', `/projects/${project.id}/github`)).json.github.fullName).toBe('Codertocat/Hello-World');

    // A fork's pull request: recorded, not built.
    const payload = githubExamples('pull_request').find((p) => p.action === 'opened' && p.installation)!;
    Object.assign(payload, { number: 9 });
    Object.assign(payload.pull_request, { number: 9, title: 'Fork change' });
    Object.assign(payload.pull_request.head, { sha, ref: 'patch-1', repo: { ...payload.pull_request.head.repo, full_name: 'stranger/Hello-World' } });
    const delivered = await deliverGithub(platform.api, 'pull_request', JSON.stringify(payload), { secret: SECRET });
    expect(delivered.json.results[0].outcome).toBe('awaiting_approval');

    await page.reload();
    const approve = page.getByRole('button', { name: 'Approve build of pull request #9' });
    await approve.waitFor();
    expect(await page.locator('table.pulls').textContent()).toContain('waiting for approval');
    await screenshot(page, 'git-02-pull-requests');
    await approve.click();
    await page.waitForURL(/\/dashboard\/deployments\//);
    const prLink = page.getByRole('link', { name: '#9 Fork change' });
    await prLink.waitFor();
    expect(await prLink.getAttribute('href')).toBe(payload.pull_request.html_url);
    expect(await page.locator('.pull-request').textContent()).toContain('(from a fork)');
    await screenshot(page, 'git-03-preview');

    // A deploy key for another host: its public half is shown to paste into the host.
    await page.goto(`${platform.api}/dashboard/projects/${project.id}`);
    await page.getByRole('button', { name: 'Generate deploy key' }).click();
    await expect.poll(() => page.locator('pre.public-key').textContent(), { timeout: 10_000 }).toMatch(/^ecdsa-sha2-nistp256 \S+ deploy-hello/);
    expect(errors).toEqual([]);
  });
});
