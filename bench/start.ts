/**
 * `npm run bench:start`: how long `npm start` takes to be ready to serve (the API and the
 * proxy listening, the data folder open) on an installed checkout, and how long until the
 * example site is live. Three cases in the same run:
 *   - baseline: the same runtime (tsx) starting an HTTP server that does nothing else;
 *   - first start: an empty data folder (migrations, the admin account, the first build);
 *   - restart: the same data folder again (what a user waits for every day).
 * Each case runs BENCH_ROUNDS times (default 3); medians are printed. Goal: ready in <= 3 s.
 * The last line sums it up.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@platform/testing/ports';

const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const GOAL_MS = 3_000;
const root = join(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const scratch = mkdtempSync(join(tmpdir(), 'bench-start-'));

interface Timing {
  /** Both servers listening: the line `npm start` prints once the proxy has bound its port. */
  readyMs: number;
  /** The example site's URL printed (its build done and published); absent for the baseline. */
  liveMs?: number;
}

/** Spawns `args` and times the first stdout line matching each pattern; kills it after the last. */
async function timeStart(args: string[], env: Record<string, string>, ready: RegExp, live?: RegExp): Promise<Timing> {
  const started = performance.now();
  const child = spawn(tsx, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const timing: Partial<Timing> = {};
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within 120 s; stdout:\n${out}\nstderr:\n${err}`)), 120_000);
      child.on('exit', (code) => reject(new Error(`exited with ${code} before it was ready; stdout:\n${out}\nstderr:\n${err}`)));
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const now = performance.now() - started;
        if (timing.readyMs === undefined && ready.test(out)) timing.readyMs = now;
        if (live && timing.liveMs === undefined && live.test(out)) timing.liveMs = now;
        if (timing.readyMs !== undefined && (!live || timing.liveMs !== undefined)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  return timing as Timing;
}

const baselineScript = join(scratch, 'listen.ts');
writeFileSync(
  baselineScript,
  "import { createServer } from 'node:http';\n" +
    "const s = createServer((_q, r) => r.end('ok'));\n" +
    "s.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));\n",
);

async function platformEnv(dataDir: string): Promise<Record<string, string>> {
  return { DATA_DIR: dataDir, API_PORT: String(await freePort()), PROXY_PORT: String(await freePort()), LOG_LEVEL: 'warn' };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const READY = /^Deployments\s+http/m;
const LIVE = /The example site is live at/;

try {
  // Warm the transpile cache and the page cache once; not counted.
  await timeStart(['scripts/start.ts'], await platformEnv(join(scratch, 'warm')), READY, LIVE);
  const base: number[] = [];
  const first: Timing[] = [];
  const again: Timing[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    base.push((await timeStart([baselineScript], { PORT: String(await freePort()) }, /listening/)).readyMs);
    const dataDir = join(scratch, `data-${round}`);
    first.push(await timeStart(['scripts/start.ts'], await platformEnv(dataDir), READY, LIVE));
    again.push(await timeStart(['scripts/start.ts'], await platformEnv(dataDir), READY, LIVE));
  }
  const row = (name: string, xs: number[]) => console.log(`${name.padEnd(34)} median ${s(median(xs))} (${xs.map(s).join(', ')})`);
  row('baseline: tsx + an HTTP server', base);
  row(
    'first start: ready to serve',
    first.map((t) => t.readyMs),
  );
  row(
    'first start: example site live',
    first.map((t) => t.liveMs!),
  );
  row(
    'restart: ready to serve',
    again.map((t) => t.readyMs),
  );
  row(
    'restart: example site live again',
    again.map((t) => t.liveMs!),
  );
  const ready = Math.max(median(first.map((t) => t.readyMs)), median(again.map((t) => t.readyMs)));
  const b = median(base);
  console.log(
    `npm start ready to serve in ${s(ready)} (${(ready / b).toFixed(1)}x the ${s(b)} of a bare tsx server), example live in ${s(median(first.map((t) => t.liveMs!)))}; goal <= 3 s: ${ready <= GOAL_MS ? 'met' : 'missed'}`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
