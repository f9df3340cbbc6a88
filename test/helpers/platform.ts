import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiOptionsFrom, createApiServer, createDrivers, loadApiConfig, type ApiDeps, type ApiOptions } from '@platform/api-server';
import { createProxyServer } from '@platform/s3-reverse-proxy';
import { createLogger } from '@platform/logger';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface TestPlatform {
  api: string;
  proxyPort: number;
  deps: ApiDeps;
  dataDir: string;
  /** An access token of the platform's first user, sent by `http()` to this API unless a test passes its own. */
  token: string;
  /** Signs up another user; returns their access token. */
  signup(email?: string): Promise<{ token: string; userId: string }>;
  close(): Promise<void>;
}

/** Default credential per API base URL, so tests that do not care about accounts stay short. */
const defaultTokens = new Map<string, string>();

/**
 * Signs up a fresh user on an api-server a test started itself and makes its token the
 * default `http()` sends to that base URL. Returns the access token.
 */
export async function signUpDefaultUser(base: string, email = `owner-${Math.random().toString(36).slice(2)}@example.test`): Promise<string> {
  const res = await http(base, 'POST', '/auth/signup', { email, password: 'correct horse battery staple' }, { authorization: '' });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${res.text}`);
  defaultTokens.set(base, res.json.accessToken as string);
  return res.json.accessToken as string;
}

/** Makes `token` the credential `http()` sends to `base` (an api-server restarted on a new port). */
export function setDefaultToken(base: string, token: string): void {
  defaultTokens.set(base, token);
}

/**
 * The whole platform in a fresh data folder, on free ports: on the embedded default, or on
 * whatever servers `env` names (DATABASE_URL, KAFKA_BROKERS, S3_BUCKET...), as in production.
 */
export async function startEmbeddedPlatform(env: Record<string, string> = {}, options: Partial<ApiOptions> = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-test-'));
  // Tests sign up many users from one address and post to local notification receivers.
  // Fixture repositories are made in the system temp folder: the one allowed root for local paths.
  const config = loadApiConfig({ PATH: process.env.PATH ?? '', DATA_DIR: dataDir, API_PORT: '0', PROXY_PORT: '0', LOG_LEVEL: 'warn', LOGIN_RATE_LIMIT_PER_MINUTE: '1000', ALLOW_PRIVATE_WEBHOOK_URLS: 'true', ALLOW_LOCAL_GIT: 'true', LOCAL_GIT_ROOTS: tmpdir(), ...env });
  const logger = createLogger({ level: config.LOG_LEVEL });
  const deps = await createDrivers(config, logger);
  const proxy = createProxyServer({ store: deps.store, bus: deps.bus, logger }, { routeTtlMs: 200, requestLogFlushMs: 100 });
  const proxyPort = await proxy.listen(0);
  const defaults = apiOptionsFrom({ ...config, PUBLIC_PORT: proxyPort }, deps.runner);
  // Tests of accounts and tenancy need several accounts even where this machine cannot sandbox
  // builds (single-user mode would close sign-up); the sandbox suite asserts that mode itself.
  const access = { ...defaults.access, signup: defaults.access.signup === 'first-account' ? ('open' as const) : defaults.access.signup };
  const api = await createApiServer(deps, { ...defaults, access, ...options });
  const apiPort = await api.listen(0);
  const base = `http://127.0.0.1:${apiPort}`;
  const signup = async (email = `user-${Math.random().toString(36).slice(2)}@example.test`) => {
    const res = await http(base, 'POST', '/auth/signup', { email, password: 'correct horse battery staple' }, { authorization: '' });
    if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${res.text}`);
    return { token: res.json.accessToken as string, userId: res.json.user.id as string };
  };
  const owner = await signup('owner@example.test');
  defaultTokens.set(base, owner.token);
  return {
    api: base,
    proxyPort,
    deps,
    dataDir,
    token: owner.token,
    signup,
    async close() {
      defaultTokens.delete(base);
      await proxy.close();
      await api.close();
      await deps.runner.close();
      await deps.bus.close();
      await deps.store.close?.();
      await deps.clickhouse.close();
      await deps.db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Copies a fixture into a fresh git repository (branch `main`, one commit) and returns its path. */
export function gitRepoFromFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `repo-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  gitCommitAll(dir, 'Initial commit', true);
  return dir;
}

export function gitCommitAll(dir: string, message: string, init = false): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@localhost', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@localhost' };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env, stdio: 'pipe' }).toString().trim();
  if (init) git('init', '--quiet', '--initial-branch=main');
  git('add', '-A');
  git('commit', '--quiet', '--allow-empty', '-m', message);
  return git('rev-parse', 'HEAD');
}

/**
 * A JSON request to the API, signed in as the platform's first user unless `headers` carries
 * its own `authorization` (an empty one sends none).
 */
export async function http(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const token = defaultTokens.get(base);
  const auth: Record<string, string> = 'authorization' in headers ? {} : token ? { authorization: `Bearer ${token}` } : {};
  const sent = Object.fromEntries(Object.entries({ ...auth, ...headers }).filter(([, v]) => v !== ''));
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...sent },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Polls a deployment until it reaches a terminal status. */
export async function waitForDeployment(api: string, id: string, timeoutMs = 90_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { json } = await http(api, 'GET', `/deployments/${id}`);
    if (['READY', 'ERROR', 'CANCELED'].includes(json?.deployment?.status)) return json.deployment;
    await sleep(150);
  }
  throw new Error(`deployment ${id} did not finish within ${timeoutMs} ms`);
}

/**
 * A request through the proxy with a Host header, as a browser on `<host>:<port>` would send
 * it. node:http, because fetch does not let a caller set Host.
 */
export function viaProxy(
  proxyPort: number,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Headers; text: string; body: Buffer; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, path, method, headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: h, text, body, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
