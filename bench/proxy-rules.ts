/**
 * `npm run bench:proxy-rules`: what rule matching costs the s3-reverse-proxy. One proxy
 * process serves the same files for two sites, one with 200 routing rules (redirects,
 * rewrites, header rules, some with `has`/`missing` conditions, none of them for the measured
 * paths, as on a real site) and one without, measured with wrk in the same run, in alternating
 * order per round; the median of the per-round ratios is reported. (`npm run bench:proxy`
 * compares the proxy itself with nginx.) Needs `wrk`.
 *
 * Environment: BENCH_DURATION_S (5), BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_ROUNDS (5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalObjectStore } from '@platform/object-store';
import { freePort } from '@platform/testing/ports';
import { writeDeployment, writeRoute } from '@platform/testing/proxy';
import { get, median, waitUntilServing, wrk } from './support/wrk.ts';

const root = join(import.meta.dirname, '..');
const number = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const DURATION_S = number('BENCH_DURATION_S', 5);
const CONNECTIONS = number('BENCH_CONNECTIONS', 64);
const THREADS = number('BENCH_THREADS', 2);
const ROUNDS = number('BENCH_ROUNDS', 5);
const PLAIN_HOST = 'bench.localhost';
const RULES_HOST = 'rules.localhost';

/** 200 rules as a migrated site has them: old paths redirected, app sections rewritten, header rules, a few conditional ones. */
function twoHundredRules() {
  const redirects = Array.from({ length: 80 }, (_, i) => ({ source: `/old-${i}/:slug`, destination: `/new-${i}/:slug`, statusCode: 308 as const }));
  const rewrites = Array.from({ length: 60 }, (_, i) => ({ source: `/app-${i}/(.*)`, destination: '/index.html' }));
  const headers = Array.from({ length: 40 }, (_, i) => ({ source: `/section-${i}/(.*)`, headers: [{ key: 'X-Section', value: String(i) }] }));
  const conditional = Array.from({ length: 20 }, (_, i) => ({
    source: `/beta-${i}`,
    destination: '/index.html',
    has: [{ type: 'header' as const, key: 'x-beta', value: 'on' }],
  }));
  return { redirects, rewrites: [...rewrites, ...conditional], headers };
}

const work = mkdtempSync(join(tmpdir(), 'bench-proxy-rules-'));
let proxy: ChildProcess | undefined;
try {
  const html = Buffer.from(`<!doctype html><title>bench</title>${'<p>lorem ipsum dolor sit amet</p>'.repeat(29)}`).subarray(0, 1024);
  const asset = Buffer.from(randomBytes(150 * 1024 * 0.75).toString('base64')).subarray(0, 150 * 1024);
  const assetPath = 'assets/app.3f9a1c2e.js';
  const store = createLocalObjectStore({ rootDir: join(work, 'data', 'objects') });
  await writeDeployment(store, 'benchdeployment00001', { 'index.html': html, [assetPath]: asset });
  await writeRoute(store, PLAIN_HOST, { deploymentId: 'benchdeployment00001', projectId: 'prj_bench' });
  await writeDeployment(store, 'benchdeployment00002', { 'index.html': html, [assetPath]: asset }, twoHundredRules());
  await writeRoute(store, RULES_HOST, { deploymentId: 'benchdeployment00002', projectId: 'prj_bench_rules' });

  const port = await freePort();
  proxy = spawn(process.execPath, ['--import', 'tsx', join(root, 's3-reverse-proxy/src/main.ts')], {
    cwd: root,
    stdio: 'inherit',
    env: { PATH: process.env.PATH, DATA_DIR: join(work, 'data'), PROXY_PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
  await waitUntilServing(port, PLAIN_HOST);
  const files = [
    { name: '1 KB HTML', path: '/', bytes: html.length },
    { name: '150 KB asset', path: `/${assetPath}`, bytes: asset.length },
  ];
  for (const host of [PLAIN_HOST, RULES_HOST]) {
    for (const file of files) {
      const res = await get(port, host, file.path);
      if (res.status !== 200 || res.length !== file.bytes)
        throw new Error(`${host}${file.path}: status ${res.status}, ${res.length} bytes, expected 200 and ${file.bytes}`);
    }
  }
  const load = { port, seconds: DURATION_S, threads: THREADS, connections: CONNECTIONS };
  console.log(`wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_S}s, ${ROUNDS} paired rounds per file (order alternating), one proxy process`);
  const ratios: Record<string, number> = {};
  for (const file of files) {
    // Warm both (page cache, file cache, JIT) before measuring.
    for (const host of [PLAIN_HOST, RULES_HOST]) await wrk({ ...load, host, path: file.path, seconds: 2 });
    const rounds: { plain: number; rules: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['plain', 'rules'] as const) : (['rules', 'plain'] as const);
      const measured = { plain: 0, rules: 0 };
      for (const name of order) {
        measured[name] = (await wrk({ ...load, host: name === 'plain' ? PLAIN_HOST : RULES_HOST, path: file.path })).requestsPerSecond;
      }
      rounds.push(measured);
      console.log(
        `  ${file.name.padEnd(13)} round ${round + 1}: no rules ${measured.plain.toFixed(0).padStart(7)} req/s, 200 rules ${measured.rules.toFixed(0).padStart(7)} req/s, ratio ${(measured.rules / measured.plain).toFixed(2)}`,
      );
    }
    ratios[file.name] = median(rounds.map((r) => r.rules / r.plain));
  }
  console.log(
    `200 rules/none: 1 KB HTML ${ratios['1 KB HTML']!.toFixed(2)}×, 150 KB asset ${ratios['150 KB asset']!.toFixed(2)}× (goal ≥ 0.90: rule matching costs ≤ 10%)`,
  );
} finally {
  if (proxy?.exitCode === null) proxy.kill('SIGTERM');
  await sleep(300);
  rmSync(work, { recursive: true, force: true });
}
