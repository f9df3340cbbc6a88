/**
 * `npm run bench:proxy-rules`: the s3-reverse-proxy against nginx serving the same files from disk,
 * measured with wrk in the same run, for a 1 KB HTML page and a 150 KB asset; and the proxy
 * serving the same files for a site with 200 routing rules (redirects, rewrites, header rules,
 * some with `has`/`missing` conditions, none of them for the measured paths, as on a real site)
 * against the same site without rules: the cost of rule matching.
 *
 * Fairness: both get the same number of worker processes (BENCH_WORKERS, default 1 each: one
 * nginx worker, one proxy process), keep-alive without a per-connection request limit, and
 * both log every request (nginx: a buffered access log; the proxy: its request-log batches on
 * the event bus). wrk runs on the same machine with the same threads and connections for both.
 * The proxy runs as its own process from its composition root (`s3-reverse-proxy/src/main.ts`)
 * on the embedded local-folder object store. Needs `wrk` and `nginx` (Debian packages).
 *
 * Environment: BENCH_WORKERS (1), BENCH_DURATION_S (5), BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_ROUNDS (5).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalObjectStore } from '@platform/object-store';
import { writeDeployment, writeRoute } from '@platform/testing/proxy';
import { freePort } from '@platform/testing/ports';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const WORKERS = env('BENCH_WORKERS', 1);
const DURATION_S = env('BENCH_DURATION_S', 5);
const CONNECTIONS = env('BENCH_CONNECTIONS', 64);
const THREADS = env('BENCH_THREADS', 2);
const ROUNDS = env('BENCH_ROUNDS', 5);
const HOST = 'bench.localhost';
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

for (const tool of ['wrk', 'nginx']) {
  const probe = spawnSync(tool, tool === 'wrk' ? ['-v'] : ['-v'], { stdio: 'ignore' });
  if (probe.error) {
    console.error(`${tool} is not installed: apt-get update && apt-get install -y wrk nginx`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'bench-proxy-'));
// nginx workers run as an unprivileged user when started by root: they must be able to read the docroot.
chmodSync(work, 0o755);
const children: ChildProcess[] = [];
const cleanup = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
};
process.on('exit', cleanup);

try {
  // The same bytes for both servers: a 1 KB HTML page and a 150 KB hashed asset.
  const html = Buffer.from(
    `<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head><body>${'<p>lorem ipsum dolor sit amet</p>'.repeat(29)}</body></html>`,
  ).subarray(0, 1024);
  const asset = Buffer.from(randomBytes(150 * 1024 * 0.75).toString('base64')).subarray(0, 150 * 1024);
  const assetPath = 'assets/app.3f9a1c2e.js';
  const deploymentId = 'benchdeployment00001';
  const store = createLocalObjectStore({ rootDir: join(work, 'data', 'objects') });
  await writeDeployment(store, deploymentId, { 'index.html': html, [assetPath]: asset });
  await writeRoute(store, HOST, { deploymentId, projectId: 'prj_bench' });
  const rulesDeploymentId = 'benchdeployment00002';
  await writeDeployment(store, rulesDeploymentId, { 'index.html': html, [assetPath]: asset }, twoHundredRules());
  await writeRoute(store, RULES_HOST, { deploymentId: rulesDeploymentId, projectId: 'prj_bench_rules' });
  const docroot = join(work, 'www');
  mkdirSync(join(docroot, 'assets'), { recursive: true });
  writeFileSync(join(docroot, 'index.html'), html);
  writeFileSync(join(docroot, assetPath), asset);

  const nginxPort = await freePort();
  const proxyPort = await freePort();
  const nginxConf = join(work, 'nginx.conf');
  writeFileSync(
    nginxConf,
    `worker_processes ${WORKERS};
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  access_log ${work}/nginx-access.log combined buffer=64k flush=1s;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fastcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  server {
    listen 127.0.0.1:${nginxPort};
    root ${docroot};
  }
}
`,
  );
  children.push(spawn('nginx', ['-c', nginxConf, '-e', join(work, 'nginx-error.log')], { stdio: 'inherit' }));
  children.push(
    spawn(process.execPath, ['--import', 'tsx', join(root, 's3-reverse-proxy/src/main.ts')], {
      cwd: root,
      stdio: 'inherit',
      env: {
        PATH: process.env.PATH,
        DATA_DIR: join(work, 'data'),
        PROXY_PORT: String(proxyPort),
        PROXY_WORKERS: String(WORKERS),
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
      },
    }),
  );

  const targets = {
    nginx: { port: nginxPort, host: HOST },
    proxy: { port: proxyPort, host: HOST },
    rules: { port: proxyPort, host: RULES_HOST },
  };
  const files = [
    { name: '1 KB HTML', path: '/', bytes: html.length },
    { name: '150 KB asset', path: `/${assetPath}`, bytes: asset.length },
  ];
  for (const [name, target] of Object.entries(targets)) {
    await waitUntilServing(target.port, target.host);
    for (const file of files) {
      const res = await get(target.port, target.host, file.path);
      if (res.status !== 200 || res.length !== file.bytes)
        throw new Error(`${name} ${file.path}: status ${res.status}, ${res.length} bytes, expected 200 and ${file.bytes}`);
    }
  }

  console.log(
    `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_S}s, ${ROUNDS} paired rounds per file (order alternating), ` +
      `${WORKERS} worker process(es) each for nginx and the proxy, node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(1)}`,
  );
  const results: Record<string, { nginx: number; proxy: number; rules: number; ratio: number; rulesRatio: number }> = {};
  for (const file of files) {
    // Warm both (page cache, file cache, JIT). Each round measures both back to back, in
    // alternating order, so load from elsewhere on the machine hits both alike; the median of
    // the per-round ratios is reported.
    for (const target of Object.values(targets)) await wrk(target.port, target.host, file.path, 2);
    const rounds: { nginx: number; proxy: number; rules: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order: (keyof typeof targets)[] = round % 2 === 0 ? ['nginx', 'proxy', 'rules'] : ['rules', 'proxy', 'nginx'];
      const measured = { nginx: 0, proxy: 0, rules: 0 };
      for (const name of order) measured[name] = await wrk(targets[name].port, targets[name].host, file.path, DURATION_S);
      rounds.push(measured);
      console.log(
        `  ${file.name.padEnd(13)} round ${round + 1}: nginx ${measured.nginx.toFixed(0).padStart(7)} req/s, proxy ${measured.proxy.toFixed(0).padStart(7)} req/s, ratio ${(measured.proxy / measured.nginx).toFixed(2)}; 200 rules ${measured.rules.toFixed(0).padStart(7)} req/s, ${(measured.rules / measured.proxy).toFixed(2)} of none`,
      );
    }
    results[file.name] = {
      nginx: median(rounds.map((r) => r.nginx)),
      proxy: median(rounds.map((r) => r.proxy)),
      rules: median(rounds.map((r) => r.rules)),
      ratio: median(rounds.map((r) => r.proxy / r.nginx)),
      rulesRatio: median(rounds.map((r) => r.rules / r.proxy)),
    };
  }
  console.log('');
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(13)} median: nginx ${r.nginx.toFixed(0).padStart(7)} req/s   proxy ${r.proxy.toFixed(0).padStart(7)} req/s   ratio ${r.ratio.toFixed(2)}×   200 rules ${r.rules.toFixed(0).padStart(7)} req/s   ${r.rulesRatio.toFixed(2)}× of none`,
    );
  }
  const ratio = (name: string) => results[name]!.ratio.toFixed(2);
  const rulesRatio = (name: string) => results[name]!.rulesRatio.toFixed(2);
  console.log(
    `proxy/nginx (${WORKERS} worker${WORKERS > 1 ? 's' : ''} each): 1 KB HTML ${ratio('1 KB HTML')}× (goal ≥ 0.90), 150 KB asset ${ratio('150 KB asset')}× (goal ≥ 0.95); ` +
      `200 rules/none: 1 KB HTML ${rulesRatio('1 KB HTML')}×, 150 KB asset ${rulesRatio('150 KB asset')}× (goal ≥ 0.90)`,
  );
} finally {
  cleanup();
  await sleep(300);
  rmSync(work, { recursive: true, force: true });
}

async function wrk(port: number, host: string, path: string, seconds: number): Promise<number> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '-H', `Host: ${host}`, `http://127.0.0.1:${port}${path}`]);
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
  });
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error responses from port ${port}:\n${out}`);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`could not read wrk's output:\n${out}`);
  return Number(m[1]);
}

function get(port: number, host: string, path: string): Promise<{ status: number; length: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let length = 0;
      res.on('data', (c: Buffer) => (length += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitUntilServing(port: number, host: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await get(port, host, '/');
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`nothing answered on port ${port}: ${(err as Error).message}`);
      await sleep(100);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
