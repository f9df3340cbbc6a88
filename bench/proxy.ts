/**
 * `npm run bench:proxy`: the s3-reverse-proxy against nginx serving the same files from disk,
 * measured with wrk in the same run, for a 1 KB HTML page and a 150 KB asset, and the 1 KB page
 * over HTTPS: a custom domain with its certificate in the object store (the proxy's SNI path)
 * against nginx with the same certificate, session resumption on for both (nginx's shared
 * session cache and tickets, Node's session tickets).
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
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CertificateStore, Sealer } from '@platform/certificates';
import { domainRecordKey } from '@platform/contracts';
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
const ROOT_DOMAIN = 'bench.test';
const HOST = `bench.${ROOT_DOMAIN}`;
// The custom domain of the HTTPS row: the one name besides an IP that resolves to loopback
// everywhere, so wrk's SNI and Host name it as a browser would.
const TLS_HOST = 'localhost';

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
  // HTTPS: one self-signed certificate for both servers, the proxy's sealed in the object store.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${TLS_HOST}`,
      '-addext',
      `subjectAltName=DNS:${TLS_HOST}`,
      '-keyout',
      join(work, 'tls.key'),
      '-out',
      join(work, 'tls.crt'),
    ],
    { stdio: 'ignore' },
  );
  const certPem = readFileSync(join(work, 'tls.crt'), 'utf8');
  const storeKey = randomBytes(32);
  await new CertificateStore(store, new Sealer(storeKey)).put(TLS_HOST, certPem, readFileSync(join(work, 'tls.key'), 'utf8'));
  await store.put(
    domainRecordKey(TLS_HOST),
    JSON.stringify({ projectId: 'prj_bench', serves: HOST, https: true, hsts: false, updatedAt: new Date().toISOString() }),
  );
  const docroot = join(work, 'www');
  mkdirSync(join(docroot, 'assets'), { recursive: true });
  writeFileSync(join(docroot, 'index.html'), html);
  writeFileSync(join(docroot, assetPath), asset);

  const nginxPort = await freePort();
  const proxyPort = await freePort();
  const nginxTlsPort = await freePort();
  const proxyTlsPort = await freePort();
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
  server {
    listen 127.0.0.1:${nginxTlsPort} ssl;
    ssl_certificate ${work}/tls.crt;
    ssl_certificate_key ${work}/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;
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
        ROOT_DOMAIN,
        HTTPS_PORT: String(proxyTlsPort),
        CERTIFICATE_STORE_KEY: storeKey.toString('hex'),
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
      },
    }),
  );

  const targets = {
    nginx: { port: nginxPort, tlsPort: nginxTlsPort },
    proxy: { port: proxyPort, tlsPort: proxyTlsPort },
  };
  const files = [
    { name: '1 KB HTML', path: '/', bytes: html.length, tls: false },
    { name: '150 KB asset', path: `/${assetPath}`, bytes: asset.length, tls: false },
    { name: '1 KB HTTPS', path: '/', bytes: html.length, tls: true },
  ];
  /** Where wrk sends a file's requests on a server: plain HTTP with the site's Host, or HTTPS to the custom domain. */
  const url = (target: (typeof targets)[keyof typeof targets], file: (typeof files)[number]) =>
    file.tls
      ? { url: `https://${TLS_HOST}:${target.tlsPort}${file.path}`, host: undefined }
      : { url: `http://127.0.0.1:${target.port}${file.path}`, host: HOST };
  for (const [name, target] of Object.entries(targets)) {
    await waitUntilServing(target.port, HOST);
    for (const file of files) {
      const res = file.tls ? await getTls(target.tlsPort, file.path, certPem) : await get(target.port, HOST, file.path);
      if (res.status !== 200 || res.length !== file.bytes)
        throw new Error(`${name} ${file.path}: status ${res.status}, ${res.length} bytes, expected 200 and ${file.bytes}`);
    }
  }

  console.log(
    `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_S}s, ${ROUNDS} paired rounds per file (order alternating), ` +
      `${WORKERS} worker process(es) each for nginx and the proxy, node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(1)}`,
  );
  const results: Record<string, { nginx: number; proxy: number; ratio: number }> = {};
  for (const file of files) {
    // Warm both (page cache, file cache, JIT). Each round measures both back to back, in
    // alternating order, so load from elsewhere on the machine hits both alike; the median of
    // the per-round ratios is reported.
    for (const target of Object.values(targets)) await wrk(url(target, file), 2);
    const rounds: { nginx: number; proxy: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order: (keyof typeof targets)[] = round % 2 === 0 ? ['nginx', 'proxy'] : ['proxy', 'nginx'];
      const measured = { nginx: 0, proxy: 0 };
      for (const name of order) measured[name] = await wrk(url(targets[name], file), DURATION_S);
      rounds.push(measured);
      console.log(
        `  ${file.name.padEnd(13)} round ${round + 1}: nginx ${measured.nginx.toFixed(0).padStart(7)} req/s, proxy ${measured.proxy.toFixed(0).padStart(7)} req/s, ratio ${(measured.proxy / measured.nginx).toFixed(2)}`,
      );
    }
    results[file.name] = {
      nginx: median(rounds.map((r) => r.nginx)),
      proxy: median(rounds.map((r) => r.proxy)),
      ratio: median(rounds.map((r) => r.proxy / r.nginx)),
    };
  }
  console.log('');
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(13)} median: nginx ${r.nginx.toFixed(0).padStart(7)} req/s   proxy ${r.proxy.toFixed(0).padStart(7)} req/s   ratio ${r.ratio.toFixed(2)}×`,
    );
  }
  const ratio = (name: string) => results[name]!.ratio.toFixed(2);
  console.log(
    `proxy/nginx (${WORKERS} worker${WORKERS > 1 ? 's' : ''} each): 1 KB HTML ${ratio('1 KB HTML')}× (goal ≥ 0.90), 150 KB asset ${ratio('150 KB asset')}× (goal ≥ 0.95), ` +
      `1 KB HTTPS ${ratio('1 KB HTTPS')}× (goal ≥ 0.80)`,
  );
} finally {
  cleanup();
  await sleep(300);
  rmSync(work, { recursive: true, force: true });
}

async function wrk(target: { url: string; host: string | undefined }, seconds: number): Promise<number> {
  const out = await new Promise<string>((resolve, reject) => {
    const host = target.host === undefined ? [] : ['-H', `Host: ${target.host}`];
    const child = spawn('wrk', [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, ...host, target.url]);
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
  });
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error responses from ${target.url}:\n${out}`);
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

/** The HTTPS row's check: SNI and Host are the custom domain, the certificate must be the one both servers hold. */
function getTls(port: number, path: string, ca: string): Promise<{ status: number; length: number }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: TLS_HOST, headers: { host: TLS_HOST }, ca, agent: false }, (res) => {
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
