import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { collectPageErrors, launchChromium, screenshot } from '@platform/testing/browser';

/** The version a deployment of the slow-log-site fixture serves, read in a browser tab. */
async function servedVersion(page: Page, url: string): Promise<string> {
  await page.goto(url);
  return (await page.locator('#version').textContent()) ?? '';
}

// A user's whole path through the dashboard in Debian's Chromium, on the embedded platform.
describe('dashboard end to end in Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startEmbeddedPlatform(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('signs up, creates a project, watches the build live, opens it, deploys again and rolls production back', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const repo = gitRepoFromFixture('slow-log-site');

    // Signed out, the dashboard sends the user to the login page.
    await page.goto(`${platform.api}/`);
    await page.waitForURL(/\/dashboard\/login/);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await screenshot(page, '01-login');

    // Sign up with the keyboard alone: the email field has focus, Tab, Enter submits.
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await page.keyboard.type('dana@example.test');
    await page.keyboard.press('Tab');
    await page.keyboard.type('a long enough passphrase');
    await screenshot(page, '02-signup');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(await page.locator('#nav').textContent()).toContain('dana@example.test');
    expect(await page.getByText('No projects yet').count()).toBe(1);

    // Sign out and back in; a wrong password is refused with the server's message.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('Email').fill('dana@example.test');
    await page.getByLabel('Password').fill('not the passphrase');
    await page.getByRole('button', { name: 'Log in' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('email or password is wrong');
    await page.getByLabel('Password').fill('a long enough passphrase');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();

    // Create a project from a local git repository and deploy it at once.
    await page.getByLabel('Name').fill('Slow Site');
    await page.getByLabel('Git repository URL').fill(repo);
    await screenshot(page, '03-projects-new');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/dashboard\/deployments\//);
    const firstId = page.url().split('/').pop()!;

    // Log lines appear while the build runs; then the status turns READY without a reload.
    await page.locator('.log-msg', { hasText: 'slow line 5 of 150' }).waitFor();
    await expect.poll(() => page.locator('.status').getAttribute('data-status')).toBe('BUILDING');
    await screenshot(page, '04-deployment-building');
    await page.locator('.status[data-status="READY"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('.log-msg', { hasText: 'built version one' }).count()).toBe(1);
    // The Node.js the build ran, as the build reported it (the fixture asks for none: the image's).
    await expect.poll(() => page.locator('.facts').textContent()).toContain(`Node.js${process.versions.node}`);
    await screenshot(page, '05-deployment-ready');

    // The deployment's URL opens in a new tab and serves the build (*.localhost is loopback).
    const [site] = await Promise.all([context.waitForEvent('page'), page.locator('.facts a[target="_blank"]').click()]);
    await site.waitForLoadState();
    expect(new URL(site.url()).hostname).toMatch(/^slow-site-[a-z0-9]+\.localhost$/);
    expect(await site.locator('#version').textContent()).toBe('version one');
    await screenshot(site, '06-deployment-site');

    // A second version, deployed from the project page, becomes production.
    writeFileSync(join(repo, 'version.txt'), 'version two\n');
    gitCommitAll(repo, 'Version two');
    await page.getByRole('link', { name: 'Slow Site' }).click();
    await page.getByRole('heading', { name: 'Slow Site' }).waitFor();
    const productionUrl = `http://slow-site.localhost:${platform.proxyPort}/`;
    expect(await page.locator('.page-head a[target="_blank"]').getAttribute('href')).toBe(productionUrl.replace(/\/$/, ''));
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const rows = page.locator('table.deployments tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    const secondRow = rows.first();
    const secondId = await secondRow.getAttribute('data-deployment-id');
    expect(secondId).not.toBe(firstId);
    // The list refreshes itself while a build runs: READY shows up without a reload.
    await expect.poll(() => secondRow.getAttribute('data-status'), { timeout: 60_000, interval: 250 }).toBe('READY');
    const firstRow = page.locator(`tr[data-deployment-id="${firstId}"]`);
    await expect.poll(() => secondRow.locator('.current').count()).toBe(1);
    expect(await firstRow.locator('.current').count()).toBe(0);
    expect(await secondRow.locator('td').nth(3).textContent()).toMatch(/^[0-9a-f]{7}$/);
    await expect.poll(() => servedVersion(site, productionUrl)).toBe('version two');

    // Roll production back to the first deployment: the production URL serves it again.
    await firstRow.getByRole('button', { name: `Roll back ${firstId}` }).click();
    await expect.poll(() => firstRow.locator('.current').count()).toBe(1);
    expect(await secondRow.locator('.current').count()).toBe(0);
    expect(await page.locator('.notice-error').count()).toBe(0);
    await expect.poll(() => servedVersion(site, productionUrl)).toBe('version one');
    await screenshot(page, '07-project');

    // Promote the newer one forward again, from its deployment page.
    await secondRow.getByRole('link', { name: secondId!.slice(0, 10) }).click();
    await page.getByRole('button', { name: 'Promote to production' }).click();
    await page.getByText('Promote to production: done.').waitFor();
    await expect.poll(() => servedVersion(site, productionUrl)).toBe('version two');

    // Analytics of the requests this test made through the proxy: the page charts them.
    await page.getByRole('link', { name: 'Slow Site' }).click();
    await page.getByRole('link', { name: 'Analytics' }).click();
    await page.getByRole('heading', { name: 'Analytics' }).waitFor();
    const requestsTotal = page.locator('.total', { hasText: 'Requests' }).locator('.total-value');
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return Number(await requestsTotal.textContent());
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(4);
    expect(await page.locator('figure.chart').count()).toBe(4);
    expect(await page.locator('figure.chart', { hasText: 'Requests' }).locator('polyline.chart-line').count()).toBe(1);
    const statusChart = page.locator('figure.chart', { hasText: 'Status classes' });
    expect(await statusChart.locator('svg title').textContent()).toMatch(/2xx [1-9]\d*/);
    const topPaths = page.locator('figure.chart', { hasText: 'Top paths' });
    expect(await topPaths.locator('text.chart-label').first().textContent()).toBe('/');
    await screenshot(page, '09-analytics');

    // The projects list shows the project with its newest deployment's status.
    await page.getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: 'Latest deployment of Slow Site: READY' }).waitFor();
    await screenshot(page, '11-projects');

    // The one failed request was the wrong password's 401.
    expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    expect(errors.length).toBe(1);
    await context.close();
  });
});
