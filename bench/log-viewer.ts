/**
 * `npm run bench:log-viewer`: how fast the dashboard's deployment page shows a finished
 * build's whole log in Chromium, against a baseline measured in the same run and browser:
 * one REST call for the same lines (`GET /deployments/:id/logs`) put into a <pre> as text.
 * Both end when every line is laid out. The ratio is the price of the viewer (socket.io
 * history, one row per line with ANSI spans, stream marks, search index) over plain text.
 *
 * Needs Debian's chromium. Environment: BENCH_LINES (20000), BENCH_ROUNDS (5).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitCommitAll } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform } from '@platform/testing/platform';
import { launchChromium } from '@platform/testing/browser';

const env = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const LINES = env('BENCH_LINES', 20_000);
const ROUNDS = env('BENCH_ROUNDS', 5);

/** A repository whose build prints LINES lines at once (every 10th coloured, every 25th on stderr). */
function noisyRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-log-'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'index.html'), '<h1>bench</h1>\n');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-log', private: true, scripts: { build: 'node build.mjs' } }));
  writeFileSync(
    join(dir, 'build.mjs'),
    `import { cpSync } from 'node:fs';
const out = [], err = [];
for (let n = 1; n <= ${LINES}; n++) {
  if (n % 25 === 0) err.push('warning ' + n + ': something on stderr');
  else if (n % 10 === 0) out.push('\\x1b[32mcompiled\\x1b[0m module ' + n + ' \\x1b[1min 12 ms\\x1b[0m');
  else out.push('line ' + n + ' of the build output, a typical length for a bundler line');
}
process.stdout.write(out.join('\\n') + '\\n');
process.stderr.write(err.join('\\n') + '\\n');
cpSync('src', 'dist', { recursive: true });
`,
  );
  gitCommitAll(dir, 'bench', true);
  return dir;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const platform = await startEmbeddedPlatform({ LOG_LEVEL: 'error' });
const browser = await launchChromium();
try {
  const project = (await http(platform.api, 'POST', '/projects', { name: 'bench-log', gitUrl: noisyRepo() })).json.project;
  const deployment = (await http(platform.api, 'POST', '/deploy', { projectId: project.id })).json.deployment;
  const done = await waitForDeployment(platform.api, deployment.id, 180_000);
  if (done.status !== 'READY') throw new Error(`the bench build ended ${done.status}`);
  const stored = (await http(platform.api, 'GET', `/deployments/${deployment.id}/logs?limit=100000`)).json.lines.length as number;
  console.log(`log of ${stored} lines (BENCH_LINES=${LINES}), ${ROUNDS} rounds, Chromium headless`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((token: string) => (globalThis as any).localStorage.setItem('platform.session', token), platform.token);
  const page = await context.newPage();

  const viewer: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Baseline: one JSON request, all lines into a <pre> as text, laid out.
    await page.goto('about:blank');
    let t0 = performance.now();
    await page.goto(`${platform.api}/healthz`);
    await page.evaluate(
      async ([id, token]) => {
        const g = globalThis as any;
        const res = await g.fetch(`/deployments/${id}/logs?limit=100000`, { headers: { authorization: `Bearer ${token}` } });
        const { lines } = await res.json();
        const pre = g.document.createElement('pre');
        pre.textContent = lines.map((l: { message: string }) => l.message).join('\n');
        g.document.body.replaceChildren(pre);
        return pre.scrollHeight;
      },
      [deployment.id, platform.token] as const,
    );
    baseline.push(performance.now() - t0);

    // The dashboard: the deployment page until every line is a row, laid out.
    await page.goto('about:blank');
    t0 = performance.now();
    await page.goto(`${platform.api}/dashboard/deployments/${deployment.id}`);
    await page.waitForFunction(
      (n) => {
        const g = globalThis as any;
        return g.document.querySelectorAll('.log-line').length === n && g.document.querySelector('.log-body').scrollHeight > 0;
      },
      stored,
      { timeout: 120_000, polling: 10 },
    );
    viewer.push(performance.now() - t0);
  }
  await context.close();

  const b = median(baseline);
  const v = median(viewer);
  console.log(`baseline (REST JSON into <pre>): ${baseline.map((x) => x.toFixed(0)).join(', ')} ms; median ${b.toFixed(0)} ms`);
  console.log(`dashboard deployment page:       ${viewer.map((x) => x.toFixed(0)).join(', ')} ms; median ${v.toFixed(0)} ms`);
  console.log(
    `log-viewer: ${stored} lines shown in ${v.toFixed(0)} ms vs ${b.toFixed(0)} ms for plain text: ${(v / b).toFixed(2)}x the baseline (${((stored / v) * 1000).toFixed(0)} lines/s)`,
  );
} finally {
  await browser.close();
  await platform.close();
}
