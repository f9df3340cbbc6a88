/**
 * `npm run bench:scale`: how the platform's cost grows with the work, each part against a
 * small baseline measured in the same run.
 *   1. The proxy with BENCH_HOSTS (10,000) hostnames in rotation (wrk with a Lua script
 *      choosing the Host header per request), each its own deployment, against one hostname:
 *      requests per second, p99 latency and the proxy's resident memory.
 *   2. The API on PostgreSQL with 10,000 projects and about 100,000 deployments (and a
 *      deployment with 100,000 log lines): p99 of the project list, a project's deployment list
 *      (one page) and a log page, against the same requests on one project of 20 deployments.
 *   3. The scheduler claiming 600 queued builds with 3 api-server replicas at once against one:
 *      claims per second, and no deployment launched twice.
 * Needs wrk (installed by the root script when missing) and the servers of `npm run infra:up`
 * (PostgreSQL; DATABASE_URL from `.infra/env`).
 * Environment: BENCH_HOSTS (10000), BENCH_DURATION_S (5), BENCH_ROUNDS (3), BENCH_REQUESTS (300).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogStore } from '@platform/clickhouse';
import type { BuildEvent } from '@platform/contracts';
import { createLocalObjectStore } from '@platform/object-store';
import { http } from '@platform/testing/http';
import { startPlatform } from '@platform/testing/platform';
import { freePort } from '@platform/testing/ports';
import { scratchDatabase } from '@platform/testing/postgres';
import { writeDeployment, writeRoute } from '@platform/testing/proxy';
import { seedQueue, seedScale } from '@platform/testing/seed';
import { hostRotationScript, median, percentile, residentMiB, waitUntilServing, wrk } from './support/wrk.ts';

const root = join(import.meta.dirname, '..');
const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const HOSTS = number('BENCH_HOSTS', 10_000);
const DURATION_S = number('BENCH_DURATION_S', 5);
const ROUNDS = number('BENCH_ROUNDS', 3);
const REQUESTS = number('BENCH_REQUESTS', 300);

const infraEnvFile = join(root, '.infra', 'env');
if (existsSync(infraEnvFile)) {
  for (const line of readFileSync(infraEnvFile, 'utf8').split('\n')) {
    const match = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '');
  }
}
const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.error('bench:scale needs PostgreSQL: run `npm run infra:up` (it writes .infra/env) or set DATABASE_URL');
  process.exit(1);
}

/** A platform on a scratch database: the keys every replica on a shared database must share. */
const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), ENV_ENCRYPTION_KEY: randomBytes(32).toString('hex') };

const work = mkdtempSync(join(tmpdir(), 'bench-scale-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});
const summary: string[] = [];
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** Part 1: one proxy process, one hostname against HOSTS hostnames in rotation. */
async function proxyHostnames(): Promise<void> {
  const store = createLocalObjectStore({ rootDir: join(work, 'proxy-data', 'objects') });
  const hosts: string[] = [];
  const started = performance.now();
  for (let i = 0; i < HOSTS; i++) {
    const id = `benchdepl${String(i).padStart(11, '0')}`;
    const host = `site-${i}.localhost`;
    await writeDeployment(store, id, { 'index.html': `<!doctype html><title>site ${i}</title><p>${'lorem ipsum '.repeat(80)}</p>` });
    await writeRoute(store, host, { deploymentId: id, projectId: `prj_bench${i}` });
    hosts.push(host);
  }
  console.log(`proxy: ${HOSTS} deployments and route records written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  // Both cases go through the same Lua request function (it costs wrk itself throughput), the
  // baseline with a list of one host.
  const script = join(work, 'rotate.lua');
  writeFileSync(script, hostRotationScript(hosts));
  const single = join(work, 'one-host.lua');
  writeFileSync(single, hostRotationScript([hosts[0]!]));
  const port = await freePort();
  const proxy = spawn(process.execPath, ['--import', 'tsx', join(root, 's3-reverse-proxy/src/main.ts')], {
    cwd: root,
    stdio: 'inherit',
    env: { PATH: process.env.PATH, DATA_DIR: join(work, 'proxy-data'), PROXY_PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
  children.push(proxy);
  await waitUntilServing(port, hosts[0]!);
  const load = { port, path: '/', seconds: DURATION_S, threads: 2, connections: 64 };
  // Warm both (JIT, page cache; the rotation fills the proxy's caches as far as they go).
  await wrk({ ...load, script: single, seconds: 2 });
  await wrk({ ...load, script, seconds: Math.max(2, DURATION_S) });
  const one: { rps: number; p99: number; rss: number }[] = [];
  const many: typeof one = [];
  for (let round = 0; round < ROUNDS; round++) {
    const a = await wrk({ ...load, script: single });
    one.push({ rps: a.requestsPerSecond, p99: a.p99Ms, rss: residentMiB(proxy.pid!) });
    const b = await wrk({ ...load, script });
    many.push({ rps: b.requestsPerSecond, p99: b.p99Ms, rss: residentMiB(proxy.pid!) });
    console.log(
      `  round ${round + 1}: one host ${a.requestsPerSecond.toFixed(0)} req/s p99 ${ms(a.p99Ms)}; ${HOSTS} hosts ${b.requestsPerSecond.toFixed(0)} req/s p99 ${ms(b.p99Ms)}; proxy RSS ${many.at(-1)!.rss.toFixed(0)} MiB`,
    );
  }
  proxy.kill('SIGTERM');
  const m = (xs: typeof one, k: 'rps' | 'p99' | 'rss') => median(xs.map((x) => x[k]));
  const ratio = m(many, 'rps') / m(one, 'rps');
  console.log(
    `proxy, 1 host (baseline): ${m(one, 'rps').toFixed(0)} req/s, p99 ${ms(m(one, 'p99'))}, RSS ${m(one, 'rss').toFixed(0)} MiB; ` +
      `${HOSTS} hosts: ${m(many, 'rps').toFixed(0)} req/s, p99 ${ms(m(many, 'p99'))}, RSS ${m(many, 'rss').toFixed(0)} MiB (${ratio.toFixed(2)}x the throughput)`,
  );
  summary.push(`proxy ${HOSTS} hosts ${ratio.toFixed(2)}x of 1 host, RSS ${m(many, 'rss').toFixed(0)} MiB`);
}

/** p99 of `REQUESTS` sequential GETs of `path`, after 20 unmeasured ones. */
async function p99(api: string, path: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS + 20; i++) {
    const t = performance.now();
    const res = await http(api, 'GET', path);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
    if (i >= 20) times.push(performance.now() - t);
  }
  return percentile(times, 99);
}

function logEvents(deploymentId: string, projectId: string, from: number, count: number): BuildEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'log' as const,
    deploymentId,
    projectId,
    seq: from + i,
    ts: Date.now(),
    stream: 'stdout' as const,
    message: `line ${from + i}: ${'build output '.repeat(6)}`,
  }));
}

/** Part 2: the API's list and log pages, small against large. */
async function apiAtScale(): Promise<void> {
  const scratch = await scratchDatabase(DATABASE_URL!, 'bench_scale');
  const platform = await startPlatform({ env: { ...secrets, DATABASE_URL: scratch.url }, runner: 'idle', proxy: false });
  try {
    const me = (await http(platform.api, 'GET', '/auth/me')).json.user.id as string;
    const logs = createLogStore(platform.clickhouse);
    const measure = async (projectId: string, deploymentId: string) => ({
      projects: await p99(platform.api, '/projects'),
      deployments: await p99(platform.api, `/projects/${projectId}/deployments?limit=20`),
      logs: await p99(platform.api, `/deployments/${deploymentId}/logs`),
    });
    const small = await seedScale(platform.db, { ownerId: me, otherOwners: 0, projectsPerOwner: 1, deploymentsPerProject: 20, deploymentsOfFirstProject: 20 });
    await logs.insert(logEvents(`${small.projectId}_d1`, small.projectId, 1, 100));
    const before = await measure(small.projectId, `${small.projectId}_d1`);
    const started = performance.now();
    const large = await seedScale(platform.db, {
      ownerId: me,
      otherOwners: 99,
      projectsPerOwner: 100,
      deploymentsPerProject: 10,
      deploymentsOfFirstProject: 1_000,
    });
    for (let from = 1; from <= 100_000; from += 10_000) await logs.insert(logEvents(`${large.projectId}_d1`, large.projectId, from, 10_000));
    console.log(
      `api: seeded ${large.projects} projects, ${large.deployments} deployments and 100,000 log lines in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const after = await measure(large.projectId, `${large.projectId}_d1`);
    for (const key of ['projects', 'deployments', 'logs'] as const) {
      const what = { projects: 'GET /projects', deployments: 'a project’s deployments (page of 20)', logs: 'a deployment’s log page' }[key];
      console.log(
        `  ${what.padEnd(38)} p99 small ${ms(before[key]).padStart(9)}, at scale ${ms(after[key]).padStart(9)} (${(after[key] / before[key]).toFixed(2)}x)`,
      );
    }
    summary.push(`API p99 at scale: projects ${ms(after.projects)}, deployments ${ms(after.deployments)}, logs ${ms(after.logs)}`);
  } finally {
    await platform.close();
    await scratch.drop();
  }
}

/** Part 3: claims per second with `replicas` schedulers on one queue. */
async function claims(replicas: number, queued: number): Promise<number> {
  const scratch = await scratchDatabase(DATABASE_URL!, 'bench_claims');
  const platform = await startPlatform({
    env: { ...secrets, DATABASE_URL: scratch.url, MAX_CONCURRENT_BUILDS: '1000', MAX_CONCURRENT_BUILDS_PER_PROJECT: '1000' },
    runner: 'idle',
    proxy: false,
    replicas,
  });
  try {
    const me = (await http(platform.api, 'GET', '/auth/me')).json.user.id as string;
    const seeded = await seedScale(platform.db, { ownerId: me, otherOwners: 0, projectsPerOwner: 20, deploymentsPerProject: 0, deploymentsOfFirstProject: 0 });
    const projectIds = Array.from({ length: 20 }, (_, i) => seeded.projectId.replace(/_1$/, `_${i + 1}`));
    const started = performance.now();
    await seedQueue(platform.db, projectIds, queued);
    for (;;) {
      const [row] = await platform.db.query<{ launched: string; attempts: string }>(
        `SELECT count(*) FILTER (WHERE launched_at IS NOT NULL) AS launched, coalesce(sum(launch_attempts), 0) AS attempts FROM deployments WHERE id LIKE 'q%'`,
      );
      if (Number(row!.launched) >= queued) {
        const seconds = (performance.now() - started) / 1000;
        if (Number(row!.attempts) !== queued) throw new Error(`${row!.attempts} launches for ${queued} deployments: a deployment was launched twice`);
        return queued / seconds;
      }
      if (performance.now() - started > 120_000) throw new Error(`only ${row!.launched} of ${queued} launched in 120 s`);
      await sleep(50);
    }
  } finally {
    await platform.close();
    await scratch.drop();
  }
}

try {
  await proxyHostnames();
  await apiAtScale();
  const one = await claims(1, 600);
  const three = await claims(3, 600);
  console.log(
    `scheduler: 1 replica ${one.toFixed(0)} claims/s (baseline), 3 replicas ${three.toFixed(0)} claims/s (${(three / one).toFixed(2)}x), no double launch`,
  );
  summary.push(`scheduler 3 replicas ${(three / one).toFixed(2)}x of 1 (${three.toFixed(0)} claims/s)`);
  console.log(summary.join('; '));
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await sleep(300);
  rmSync(work, { recursive: true, force: true });
}
