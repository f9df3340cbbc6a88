import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors, launchChromium } from '@platform/testing/browser';
import { http } from '@platform/testing/http';
import { startPlatform, type Platform } from '@platform/testing/platform';

// The project page's Domains card in Chromium: add (a bad name refused with the API's reason),
// the DNS records to create, the status and its reason, retry, remove. The resolver is a port
// where nothing answers, so a domain stays pending; the active state with a failed renewal is
// written into its row directly (the worker's path there is tested against Pebble in
// test/domains-https.integration.test.ts): this test is about what the page shows.
describe('Domains on the project page in Chromium', () => {
  let platform: Platform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([
      startPlatform({
        runner: 'idle',
        api: {
          domains: {
            certificateStoreKey: randomBytes(32),
            acme: { directoryUrl: 'https://127.0.0.1:9/dir' },
            dnsServers: ['127.0.0.1:9'],
            cnameTarget: 'cname.localhost',
            worker: { intervalMs: 200, retryBaseMs: 60_000 },
          },
        },
      }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('adds a domain, shows its DNS records and status, retries, shows a failed renewal and removes it', async () => {
    const created = await http(platform.api, 'POST', '/projects', { name: 'shop', gitUrl: 'https://git.example.com/shop.git' });
    const project = created.json.project;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectPageErrors(page);
    await page.addInitScript((token: string) => (globalThis as any).localStorage.setItem('platform.session', token), platform.token);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${platform.api}/dashboard/projects/${project.id}`);
    const card = page.locator('section[aria-labelledby="domains-title"]');
    await card.getByText('No custom domains.').waitFor();

    // A wildcard is refused with the API's reason.
    await card.getByRole('textbox', { name: 'Domain' }).fill('*.example.com');
    await card.getByRole('button', { name: 'Add domain' }).click();
    await card.getByText(/wildcards are not allowed/).waitFor();

    await card.getByRole('textbox', { name: 'Domain' }).fill('www.example.com');
    await card.getByRole('button', { name: 'Add domain' }).click();
    const item = card.locator('li[data-hostname="www.example.com"]');
    await item.waitFor();
    expect(await item.locator('.status').textContent()).toBe('pending');
    const token = (await http(platform.api, 'GET', `/projects/${project.id}/domains/www.example.com`)).json.domain.dnsRecords[0].value;
    await item.getByRole('cell', { name: token, exact: true }).waitFor();
    expect(await item.getByRole('cell', { name: '_platform-verification.www.example.com', exact: true }).count()).toBe(1);
    expect(await item.getByRole('cell', { name: 'cname.localhost', exact: true }).count()).toBe(1);
    // The worker's reason appears without a reload (the card looks again while pending).
    await item.getByText(/waiting for DNS: TXT _platform-verification\.www\.example\.com/).waitFor({ timeout: 20_000 });

    await item.getByRole('button', { name: 'Retry www.example.com' }).click();
    await expect.poll(() => item.locator('.status').textContent()).toBe('pending');

    // Active with a failed renewal, as the worker leaves it (see the comment at the top).
    await platform.db.query(
      `UPDATE domains SET status = 'active', status_reason = NULL, renewal_error = $2, cert_not_before = now(), cert_not_after = now() + interval '90 days',
         renew_after = now() + interval '60 days', next_attempt_at = now() + interval '1 day' WHERE hostname = $1`,
      ['www.example.com', 'urn:ietf:params:acme:error:connection: connection refused'],
    );
    await page.reload();
    await item.locator('.status', { hasText: 'active' }).waitFor();
    await item.getByText(/Renewal failed \(the current certificate is still served\): urn:ietf:params:acme:error:connection/).waitFor();
    await item.getByText(/Certificate valid until/).waitFor();

    await item.getByRole('button', { name: 'Remove www.example.com' }).click();
    await card.getByText('No custom domains.').waitFor();
    expect((await http(platform.api, 'GET', `/projects/${project.id}/domains`)).json.domains).toEqual([]);
    // The one failed request is the wildcard's 400, which the browser logs; nothing else went wrong.
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  });
});
