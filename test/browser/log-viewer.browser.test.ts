import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripAnsi } from '@platform/api-server/dashboard/ansi';
import { gitCommitAll, gitRepoFromFixture } from '@platform/testing/fixtures';
import { http } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { collectPageErrors, launchChromium, screenshot } from '@platform/testing/browser';

// Lines the build prints, 20 ms apart (the fixture reads lines.txt): 8 s, so the reload and
// the reconnect below happen well before the end even on a loaded machine.
const TOTAL = 400;

/** The lines on screen, as the viewer rendered them: seq, stream and visible text. */
async function renderedLines(page: Page) {
  // Runs in the page (DOM types are not in this project's lib, hence `any`).
  return page.$$eval('.log-body .log-line', (rows: any[]) =>
    rows.map((row) => ({
      seq: Number(row.dataset.seq),
      stream: row.dataset.stream as string,
      text: row.querySelector('.log-msg')?.textContent ?? '',
    })),
  );
}

async function apiStatus(platform: TestPlatform, id: string): Promise<string> {
  return (await http(platform.api, 'GET', `/deployments/${id}`)).json.deployment.status;
}

// The log viewer against a build that prints a numbered line every 20 ms.
describe('live log viewer in Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  beforeAll(async () => {
    [platform, browser] = await Promise.all([startEmbeddedPlatform(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('streams a build live, survives a reload and a reconnect mid-build, and ends with the full log in order', async () => {
    const repo = gitRepoFromFixture('slow-log-site');
    writeFileSync(join(repo, 'lines.txt'), `${TOTAL}\n`);
    gitCommitAll(repo, `${TOTAL} lines`);
    const created = await http(platform.api, 'POST', '/projects', { name: 'slow-logs', gitUrl: repo });
    expect(created.status).toBe(201);
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: created.json.project.id });
    const id: string = deploy.json.deployment.id;

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectPageErrors(page);
    // Signed in as the platform's first user, as the login page would leave it.
    await page.addInitScript((token: string) => (globalThis as any).localStorage.setItem('platform.session', token), platform.token);
    await page.goto(`${platform.api}/dashboard/deployments/${id}`);

    // Lines arrive while the build is still running: streamed, not loaded at the end.
    await page.locator('.log-msg', { hasText: `slow line 5 of ` }).waitFor();
    expect(await apiStatus(platform, id)).toBe('BUILDING');
    await expect.poll(() => page.locator('.status').textContent()).toBe('BUILDING');

    // Reload in the middle of the build: the page starts over from the first line.
    await page.locator('.log-msg', { hasText: `slow line 40 of ` }).waitFor();
    expect(await apiStatus(platform, id)).toBe('BUILDING');
    await page.reload();
    await page.locator('.log-msg', { hasText: `slow line 70 of ` }).waitFor();
    expect(await apiStatus(platform, id)).toBe('BUILDING');

    // Drop the connection under the viewer: it reconnects and resumes after its last seq.
    const seqBeforeDrop = await page.evaluate(() => Number((globalThis as any).document.querySelector('.log-line:last-child')?.getAttribute('data-seq')));
    await page.evaluate(() => (globalThis as any).__liveLogSocket.io.engine.close());
    await page.locator('.log-connection', { hasText: /reconnecting|resuming|live/ }).waitFor();
    expect(await apiStatus(platform, id)).toBe('BUILDING');

    // The status turns READY on screen without a reload (pushed over the socket).
    await page.locator('.status[data-status="READY"]').waitFor({ timeout: 60_000 });
    await page.locator('.log-connection', { hasText: 'build ended' }).waitFor();
    await screenshot(page, 'deployment-log-ready');

    // The full log, in order, each line once: exactly what the server stored.
    const stored = (await http(platform.api, 'GET', `/deployments/${id}/logs`)).json.lines as { seq: number; stream: string; message: string }[];
    const shown = await renderedLines(page);
    expect(shown).toEqual(stored.map((l) => ({ seq: l.seq, stream: l.stream, text: stripAnsi(l.message) })));
    const numbered = shown
      .map((l) => /^slow line (\d+) of/.exec(l.text)?.[1])
      .filter(Boolean)
      .map(Number);
    expect(numbered).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    expect(seqBeforeDrop).toBeGreaterThan(70);
    expect(shown.some((l) => l.stream === 'system' && l.text.startsWith('Cloning'))).toBe(true);

    // stderr and system lines are marked; ANSI colours are rendered, not printed.
    const stderrRow = page.locator('.log-line', { hasText: 'slow line 25 of ' });
    await expect.poll(() => stderrRow.getAttribute('class')).toContain('log-stderr');
    expect(await stderrRow.locator('.log-tag').textContent()).toBe('err');
    expect(await page.locator('.log-line.log-system .log-tag').first().textContent()).toBe('sys');
    const green = page.locator('.log-line', { hasText: `slow line 10 of ` }).locator('.log-msg span.ansi-fg-2');
    expect(await green.textContent()).toMatch(/^slow line 10 of /);
    expect(shown.some((l) => l.text.includes('\x1b') || l.text.includes('[32m'))).toBe(false);

    // A line of markup is text: no element was created, no script ran.
    expect(await page.locator('.log-msg', { hasText: '<img src=x onerror=' }).count()).toBe(1);
    expect(await page.locator('.log-body img').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');

    // Search filters the lines and counts matches; Escape clears it.
    await page.keyboard.press('/');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.className)).toBe('log-search');
    await page.keyboard.type('(stderr)');
    await expect.poll(() => page.locator('.log-line:visible').count()).toBe(TOTAL / 25);
    expect(await page.locator('.log-matches').textContent()).toBe(`${TOTAL / 25} matches`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.log-line:visible').count()).toBe(stored.length);

    // Download gives the whole log as plain text.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe(`${id}.log`);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toBe(`${stored.map((l) => stripAnsi(l.message)).join('\n')}\n`);

    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a failing build turn ERROR with its reason, the failing stderr line marked', async () => {
    const created = await http(platform.api, 'POST', '/projects', { name: 'broken', gitUrl: gitRepoFromFixture('failing-build') });
    const deploy = await http(platform.api, 'POST', '/deploy', { projectId: created.json.project.id });
    const id: string = deploy.json.deployment.id;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectPageErrors(page);
    await page.addInitScript((token: string) => (globalThis as any).localStorage.setItem('platform.session', token), platform.token);
    await page.goto(`${platform.api}/dashboard/deployments/${id}`);

    await page.locator('.status[data-status="ERROR"]').waitFor({ timeout: 60_000 });
    await page.locator('.facts', { hasText: 'build command "npm run build" exited with code 1' }).waitFor();
    const failing = page.locator('.log-line', { hasText: 'Cannot find module "./missing-component"' });
    expect(await failing.getAttribute('data-stream')).toBe('stderr');
    expect(await page.locator('.log-connection').textContent()).toBe('build ended');
    // A failed deployment offers a redeploy, not a promotion.
    expect(await page.getByRole('button', { name: 'Redeploy' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Promote to production' }).count()).toBe(0);
    await screenshot(page, 'deployment-error');
    expect(errors).toEqual([]);
    await page.close();
  });
});
