import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { collectPageErrors, launchChromium, screenshot } from '@platform/testing/browser';

// The project settings page in Chromium: general and build settings, retention, storage,
// and deleting the project only after its name is typed; a setting the server refuses shows
// the server's reason and changes nothing.
describe('project settings page in Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startEmbeddedPlatform(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('renames, changes build and retention settings, shows storage, and deletes after confirmation', async () => {
    const hostileName = '<b onmouseover="x()">Docs</b>';
    const created = await http(platform.api, 'POST', '/projects', { name: hostileName, gitUrl: 'https://git.example.com/docs.git' });
    expect(created.status).toBe(201);
    const project = created.json.project;
    const read = async () => (await http(platform.api, 'GET', `/projects/${project.id}`)).json.project;

    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    const errors = collectPageErrors(page);
    await page.addInitScript((token: string) => (globalThis as any).localStorage.setItem('platform.session', token), platform.token);
    await page.goto(`${platform.api}/dashboard/projects/${project.id}`);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    expect(await page.locator('main b').count()).toBe(0);
    const general = page.getByRole('region', { name: 'General' });
    const build = page.getByRole('region', { name: 'Build' });
    const retention = page.getByRole('region', { name: 'Retention' });
    expect(await general.getByLabel('Name').inputValue()).toBe(hostileName);

    // General: rename and a new production branch.
    await general.getByLabel('Name').fill('Docs site');
    await general.getByLabel('Production branch').fill('release');
    await general.getByRole('button', { name: 'Save general' }).click();
    await general.getByText('General saved.').waitFor();
    expect(await read()).toMatchObject({ name: 'Docs site', productionBranch: 'release' });

    // Build: a command the server cannot parse is refused with its reason; nothing changes.
    await build.getByLabel('Build command').fill('npm run "build');
    await build.getByRole('button', { name: 'Save build' }).click();
    await build.getByRole('alert').waitFor();
    expect(await build.getByRole('alert').textContent()).toContain('buildCommand');
    expect((await read()).buildCommand).toBeNull();
    await build.getByLabel('Build command').fill('npm run docs:build');
    await build.getByLabel('Root directory').fill('site');
    await build.getByLabel('Output directory').fill('out');
    await build.getByLabel('Single-page app (unknown paths serve index.html)').check();
    await build.getByRole('button', { name: 'Save build' }).click();
    await build.getByText('Build saved.').waitFor();
    expect(await read()).toMatchObject({ buildCommand: 'npm run docs:build', rootDirectory: 'site', outputDirectory: 'out', spa: true });
    // Emptied again: back to detection (null).
    await build.getByLabel('Output directory').fill('');
    await build.getByRole('button', { name: 'Save build' }).click();
    await expect.poll(async () => (await read()).outputDirectory).toBeNull();

    // Retention: defaults as placeholders; a value of the project's own, then reset.
    const perBranch = retention.getByLabel('READY deployments kept per branch');
    expect(await perBranch.getAttribute('placeholder')).toBe('default 10');
    await perBranch.fill('3');
    await retention.getByLabel('Build cache cap (MB)').fill('256');
    await retention.getByRole('button', { name: 'Save retention' }).click();
    await retention.getByText('Retention saved.').waitFor();
    const saved = (await http(platform.api, 'GET', `/projects/${project.id}/retention`)).json.retention;
    expect(saved.project).toMatchObject({ keepPerBranch: 3, buildCacheCapBytes: 256 * 1024 ** 2, keepRollback: null });
    expect(saved.effective.keepPerBranch).toBe(3);
    await perBranch.fill('');
    await retention.getByRole('button', { name: 'Save retention' }).click();
    await expect.poll(async () => (await http(platform.api, 'GET', `/projects/${project.id}/retention`)).json.retention.project.keepPerBranch).toBeNull();

    // Storage, measured now.
    const storage = page.getByRole('region', { name: 'Storage' });
    await storage.getByText('Total').waitFor();
    expect(await storage.textContent()).toContain('Deployments');
    await screenshot(page, 'project-settings');

    // Delete: disabled until the name is typed exactly; then the project is gone.
    const zone = page.getByRole('region', { name: 'Delete project' });
    const button = zone.getByRole('button', { name: 'Delete project' });
    expect(await button.isDisabled()).toBe(true);
    await zone.getByRole('textbox').fill('Docs');
    expect(await button.isDisabled()).toBe(true);
    await zone.getByRole('textbox').fill('Docs site');
    expect(await button.isDisabled()).toBe(false);
    await button.click();
    await page.waitForURL(`${platform.api}/dashboard/`);
    expect((await http(platform.api, 'GET', `/projects/${project.id}`)).status).toBe(404);
    // Chromium logs the refused PATCH (400) above; nothing else went wrong on the page.
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  });
});
