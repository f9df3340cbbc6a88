/**
 * A private Pebble (Let's Encrypt's test ACME CA) and pebble-challtestsrv (the DNS server it
 * and the platform's verifier ask), per test file. The binaries are built once from the Go
 * module proxy by scripts/infra/pebble/install.sh into the infra cache.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_ENV, infraCacheDir } from './infra-env.ts';
import { freePort, portOpen } from './ports.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface PrivatePebble {
  /** ACME directory, over HTTPS signed by `acmeCaPem`. */
  directoryUrl: string;
  /** The CA of Pebble's own HTTPS endpoint (what ACME_CA_BUNDLE holds in a test). */
  acmeCaPem: string;
  /** The root the issued certificates chain to (new on every Pebble start). */
  issuingRootPem: string;
  /** host:port of pebble-challtestsrv's DNS server (what the platform's verifier resolves with). */
  dnsServer: string;
  /** Profile names Pebble offers: `default` (90 days) and `shortlived` (`shortLivedSeconds`). */
  shortLivedSeconds: number;
  setTxt(name: string, value: string): Promise<void>;
  clearTxt(name: string): Promise<void>;
  /** Answers A queries for `name` with `address` instead of 127.0.0.1 (to make a validation fail). */
  setA(name: string, address: string): Promise<void>;
  clearA(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Builds the binaries when the cache lacks them; returns their folder. */
export function pebbleBinaries(): string {
  return execFileSync('bash', [join(REPO_ROOT, 'scripts/infra/pebble/install.sh')], {
    encoding: 'utf8',
    env: { ...HOST_ENV, INFRA_CACHE_DIR: infraCacheDir() },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForPort(port: number, child: ChildProcess, logFile: string, what: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`${what} exited: ${readFileSync(logFile, 'utf8').slice(-2_000)}`);
    if (Date.now() > until) throw new Error(`${what} did not open port ${port} within 30 s`);
    await sleep(100);
  }
}

function httpsGet(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: new Agent({ ca }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts challtestsrv (DNS only: every name answers 127.0.0.1) and Pebble validating HTTP-01
 * on `httpPort` (where the proxy under test listens), with authorization reuse off so every
 * order really validates, no nonce rejections, and no validation sleeps.
 */
export async function startPrivatePebble(options: { httpPort: number; shortLivedSeconds?: number }): Promise<PrivatePebble> {
  const bin = pebbleBinaries();
  const certs = join(dirname(bin), 'certs');
  const dir = mkdtempSync(join(tmpdir(), 'private-pebble-'));
  const [acmePort, managementPort, dnsPort, challManagementPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const shortLivedSeconds = options.shortLivedSeconds ?? 20;
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(certs, 'cert.pem'),
      privateKey: join(certs, 'key.pem'),
      httpPort: options.httpPort,
      tlsPort: await freePort(),
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      retryAfter: { authz: 1, order: 1 },
      profiles: {
        default: { description: 'ninety days', validityPeriod: 7_776_000 },
        shortlived: { description: 'for renewal tests', validityPeriod: shortLivedSeconds },
      },
    },
  };
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config));
  const log = join(dir, 'pebble.log');
  const out = openSync(log, 'a');
  const dnsServer = `127.0.0.1:${dnsPort}`;
  const chall = spawn(
    join(bin, 'pebble-challtestsrv'),
    [
      '-dnsserver',
      dnsServer,
      '-management',
      `127.0.0.1:${challManagementPort}`,
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-doh',
      '',
    ],
    { stdio: ['ignore', out, out] },
  );
  const pebble = spawn(join(bin, 'pebble'), ['-config', join(dir, 'pebble.json'), '-dnsserver', dnsServer], {
    stdio: ['ignore', out, out],
    env: { ...HOST_ENV, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  const children = [chall, pebble];
  const close = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(challManagementPort, chall, log, 'pebble-challtestsrv');
    await waitForPort(acmePort, pebble, log, 'pebble');
    await waitForPort(managementPort, pebble, log, 'pebble');
  } catch (err) {
    await close();
    throw err;
  }
  const acmeCaPem = readFileSync(join(certs, 'pebble.minica.pem'), 'utf8');
  const issuingRootPem = await httpsGet(`https://127.0.0.1:${managementPort}/roots/0`, acmeCaPem);
  const manage = async (path: string, body: object) => {
    const res = await fetch(`http://127.0.0.1:${challManagementPort}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`challtestsrv ${path}: ${res.status} ${await res.text()}`);
  };
  const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`);
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    acmeCaPem,
    issuingRootPem,
    dnsServer,
    shortLivedSeconds,
    setTxt: (name, value) => manage('/set-txt', { host: fqdn(name), value }),
    clearTxt: (name) => manage('/clear-txt', { host: fqdn(name) }),
    setA: (name, address) => manage('/add-a', { host: fqdn(name), addresses: [address] }),
    clearA: (name) => manage('/clear-a', { host: fqdn(name) }),
    close,
  };
}
