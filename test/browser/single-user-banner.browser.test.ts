import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPlatform } from '@platform/testing/platform';
import { collectPageErrors, launchChromium, screenshot } from '@platform/testing/browser';

// Where builds run unsandboxed (SANDBOX=off stands in for a machine without bubblewrap), every
// page of the dashboard says so; where they are sandboxed, no banner shows. One platform at a
// time: chDB opens one data folder per process.
describe('the unsandboxed-builds banner', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  it('warns on the login page that builds are not sandboxed, and why', async () => {
    const platform = await startEmbeddedPlatform({ SANDBOX: 'off' });
    try {
      const page = await (await browser.newContext()).newPage();
      const errors = collectPageErrors(page);
      await page.goto(`${platform.api}/`);
      const banner = page.getByRole('alert').filter({ hasText: 'Builds run unsandboxed' });
      await banner.waitFor();
      expect(await banner.textContent()).toContain('SANDBOX=off');
      await screenshot(page, 'single-user-banner');
      expect(errors).toEqual([]);
    } finally {
      await platform.close();
    }
  });

  it('shows no banner where builds are sandboxed', async () => {
    const platform = await startEmbeddedPlatform({});
    try {
      const { builds } = (await fetch(`${platform.api}/platform`).then((r) => r.json())) as { builds: { sandboxed: boolean } };
      expect(builds.sandboxed, 'this machine cannot sandbox builds (apt-get install -y bubblewrap slirp4netns nftables)').toBe(true);
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${platform.api}/`);
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await page.waitForLoadState('networkidle');
      expect(await page.locator('#platform-banner').textContent()).toBe('');
    } finally {
      await platform.close();
    }
  });
});
