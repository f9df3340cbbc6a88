import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { collectPageErrors, launchChromium, screenshot } from '@platform/testing/browser';

// The project page's settings and actions in Chromium: user data rendered as text, env vars,
// deploy hooks, webhooks, and canceling a running build.
describe('project page in Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startEmbeddedPlatform(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('shows hostile names as text, manages env vars, hooks, webhooks and API tokens, cancels and redeploys builds', async () => {
    const hostileName = '<img src=x onerror="document.title=1">Site';
    const created = await http(platform.api, 'POST', '/projects', { name: hostileName, gitUrl: gitRepoFromFixture('slow-log-site') });
    expect(created.status).toBe(201);
    const project = created.json.project;

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectPageErrors(page);
    await page.addInitScript((token: string) => (globalThis as any).localStorage.setItem('platform.session', token), platform.token);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${platform.api}/dashboard/projects/${project.id}`);

    // The name is text in the heading, the list and the title; no element came out of it.
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(hostileName);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.title()).toBe(`${hostileName} · Deployments`);
    await page.goto(`${platform.api}/dashboard/`);
    expect(await page.getByRole('link', { name: hostileName }).count()).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    await page.getByRole('link', { name: hostileName }).click();
    await page.getByText('No deployments yet.').waitFor();

    // Env vars: added for both targets, the value never shown; one removed. SLOW_LINES makes
    // the fixture's build print 1234 lines (about 25 s), long enough to cancel it below.
    await page.getByLabel('Key').fill('SLOW_LINES');
    await page.getByLabel('Value').fill('1234');
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByRole('button', { name: 'Remove SLOW_LINES (preview)' }).waitFor();
    expect(await page.getByRole('button', { name: 'Remove SLOW_LINES (production)' }).count()).toBe(1);
    expect(await page.locator('body').textContent()).not.toContain('1234');
    await page.getByRole('button', { name: 'Remove SLOW_LINES (preview)' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Remove SLOW_LINES (preview)' }).count()).toBe(0);
    const stored = (await http(platform.api, 'GET', `/projects/${project.id}/env`)).json.envVars;
    expect(stored.map((v: any) => `${v.key}:${v.target}`)).toEqual(['SLOW_LINES:production']);

    // A deploy hook: its URL is shown once; POSTing it starts a deployment the list picks up.
    await page.getByLabel('Name', { exact: true }).fill('CMS publish');
    await page.getByRole('button', { name: 'Create hook' }).click();
    const hookNotice = page.locator('.notice-success', { hasText: 'Hook URL' });
    await hookNotice.waitFor();
    const hookUrl = /(http:\/\/\S+\/deploy-hooks\/\S+)/.exec((await hookNotice.textContent()) ?? '')?.[1];
    expect(hookUrl).toBeDefined();
    expect(await page.getByRole('button', { name: 'Delete hook CMS publish' }).count()).toBe(1);
    const triggered = await fetch(hookUrl!, { method: 'POST' });
    expect(triggered.status).toBe(202);
    const { job } = (await triggered.json()) as { job: { deploymentId: string } };
    const row = page.locator(`tr[data-deployment-id="${job.deploymentId}"]`);
    await row.waitFor({ timeout: 30_000 });

    // Cancel it while it builds (the production env var reached the build): the row ends
    // CANCELED, and its page says so.
    // Line 160 exists only when the build saw SLOW_LINES (the fixture's default is 150 lines).
    await expect
      .poll(() => http(platform.api, 'GET', `/deployments/${job.deploymentId}/logs`).then((r) => r.text), { timeout: 30_000 })
      .toContain('slow line 160 of ');
    await expect.poll(() => row.getAttribute('data-status')).toBe('BUILDING');
    await row.getByRole('button', { name: `Cancel ${job.deploymentId}` }).click();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('CANCELED');
    const projectPage = page.url();
    await row.getByRole('link', { name: job.deploymentId.slice(0, 10) }).click();
    await page.locator('.status[data-status="CANCELED"]').waitFor();
    await page.locator('.log-connection', { hasText: 'build ended' }).waitFor({ timeout: 15_000 });

    // Redeploy from the deployment page opens the new deployment; cancel it there.
    await page.getByRole('button', { name: 'Redeploy' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/dashboard/deployments/') && !url.pathname.endsWith(job.deploymentId));
    await page.locator('.log-msg', { hasText: 'slow line 3 of ' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.status[data-status="CANCELED"]').waitFor({ timeout: 30_000 });
    await page.locator('.log-connection', { hasText: 'build ended' }).waitFor({ timeout: 15_000 });
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    // Straight back to the project page (two history steps raced the log page's re-render on a loaded machine).
    await page.goto(projectPage);
    await page.getByRole('heading', { name: 'Deploy hooks' }).waitFor();

    // Outgoing webhook with its signing secret shown once; a new GitHub webhook secret.
    await page.getByLabel('Endpoint URL').fill('https://hooks.example.com/deploys');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.locator('.notice-success', { hasText: 'Signing secret' }).waitFor();
    expect(await page.getByRole('button', { name: 'Delete webhook https://hooks.example.com/deploys' }).count()).toBe(1);
    await page.getByRole('button', { name: 'Generate a new secret' }).click();
    await page.locator('code.secret').waitFor();
    expect(await page.locator('code.secret').textContent()).toMatch(/^ghs_/);
    await screenshot(page, '08-project-settings');

    // An API token from the account page works against the API until it is revoked.
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByText('Signed in as owner@example.test').waitFor();
    await page.getByLabel('Name').fill('CI');
    await page.getByRole('button', { name: 'Create token' }).click();
    const tokenNotice = page.locator('.notice-success', { hasText: 'New token' });
    const secret = /(plt_\S+)/.exec((await tokenNotice.textContent()) ?? '')?.[1];
    expect(secret).toBeDefined();
    const withToken = () => http(platform.api, 'GET', '/projects', undefined, { authorization: `Bearer ${secret}` });
    expect((await withToken()).status).toBe(200);
    await screenshot(page, '10-account');
    await page.getByRole('button', { name: 'Revoke token CI' }).click();
    await page.locator('tr', { hasText: 'CI' }).getByText('revoked').waitFor();
    expect((await withToken()).status).toBe(401);

    expect(errors).toEqual([]);
    await page.close();
  });
});
