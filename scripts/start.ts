/**
 * `npm start`: the whole platform on the embedded default, in one process: the api-server
 * (REST + socket.io) and the s3-reverse-proxy on one in-process event bus and one local
 * object store, builds as child processes. On first start it creates a local admin account
 * and an API token (kept under DATA_DIR), then deploys the bundled example site from
 * `examples/site` as project `example` and prints its live URL.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiOptionsFrom, createApiServer, createDrivers, loadApiConfig } from '@platform/api-server';
import { createProxyServer, loadProxyConfig, proxyOptionsFrom } from '@platform/s3-reverse-proxy';
import { createLogger, onShutdown } from '@platform/logger';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The example site is deployed from DATA_DIR/repos: the one folder local git paths may name.
// The proxy runs in this process and forwards from loopback: the API believes its X-Forwarded-For.
const env = { LOG_LEVEL: 'warn', ALLOW_LOCAL_GIT: 'true', TRUST_PROXY: 'loopback', ...process.env };
const apiConfig = loadApiConfig(env);
const proxyConfig = loadProxyConfig(env);
const logger = createLogger({ level: apiConfig.LOG_LEVEL });

const deps = await createDrivers(apiConfig, logger);
const api = await createApiServer(deps, apiOptionsFrom(apiConfig, deps.runner));
const apiPort = await api.listen(apiConfig.API_PORT, apiConfig.API_HOST);
// The proxy is the single ingress: api.<ROOT_DOMAIN> on its port reaches this api-server.
const proxy = createProxyServer(
  { store: deps.store, bus: deps.bus, logger },
  { ...proxyOptionsFrom(proxyConfig), rootDomain: apiConfig.ROOT_DOMAIN, apiUpstream: `http://127.0.0.1:${apiPort}` },
);
const proxyPort = await proxy.listen(proxyConfig.PROXY_PORT, proxyConfig.PROXY_HOST);
console.log(`Dashboard          http://localhost:${apiPort}/`);
console.log(`API and live logs  http://localhost:${apiPort}`);
console.log(`Deployments        http://<project>.${apiConfig.ROOT_DOMAIN}:${proxyPort}`);
console.log(`Data               ${apiConfig.dataDir}`);
const { isolation } = deps.runner;
console.log(`Builds             ${isolation.singleUser ? 'NOT SANDBOXED: ' : ''}${isolation.summary}`);
for (const problem of isolation.problems) console.log(`                   - ${problem}`);

onShutdown(logger, [
  { name: 'stop proxy', run: () => proxy.close() },
  { name: 'stop api (http, sockets, consumer, scheduler)', run: () => api.close() },
  { name: 'stop running builds', run: () => deps.runner.close() },
  { name: 'flush event bus', run: () => deps.bus.close() },
  { name: 'close clickhouse', run: () => deps.clickhouse.close() },
  { name: 'close database', run: () => deps.db.close() },
]);

const apiBase = `http://127.0.0.1:${apiPort}`;
const token = await ensureAdmin(apiBase).catch((err: unknown) => {
  console.error(`Setting up the admin account failed: ${(err as Error).message}`);
  return null;
});
if (token) {
  await deployExample(apiBase, token).catch((err: unknown) => {
    console.error(`Deploying the example site failed: ${(err as Error).message}`);
  });
}

/**
 * The local admin account: created on first start with a random password; its password and
 * an API token live in DATA_DIR (owner-only files). Returns a working API token.
 */
async function ensureAdmin(api: string): Promise<string> {
  const credentialsFile = join(apiConfig.dataDir, 'admin-credentials.json');
  const tokenFile = join(apiConfig.dataDir, 'api-token');
  const post = async (path: string, body: unknown, bearer?: string) => {
    const res = await fetch(api + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  let saved: { email: string; password: string; apiToken?: string } | null = null;
  if (existsSync(credentialsFile)) saved = JSON.parse(readFileSync(credentialsFile, 'utf8'));
  if (saved?.apiToken) {
    const me = await fetch(`${api}/auth/me`, { headers: { authorization: `Bearer ${saved.apiToken}` } });
    if (me.ok) {
      console.log(`Signed in as       ${saved.email} (password and API token in ${credentialsFile})`);
      return saved.apiToken;
    }
  }
  let session: Awaited<ReturnType<typeof post>>;
  if (saved) {
    session = await post('/auth/login', { email: saved.email, password: saved.password });
  } else {
    saved = { email: 'admin@localhost', password: randomBytes(18).toString('base64url') };
    session = await post('/auth/signup', saved);
  }
  if (session.status !== 200 && session.status !== 201) {
    throw new Error(`${session.json.error?.message ?? session.status} (remove ${credentialsFile} and the data folder to start over)`);
  }
  const created = await post('/auth/tokens', { name: 'npm start' }, session.json.accessToken);
  if (created.status !== 201) throw new Error(created.json.error?.message ?? `POST /auth/tokens answered ${created.status}`);
  saved.apiToken = created.json.secret as string;
  writeFileSync(credentialsFile, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(tokenFile, `${saved.apiToken}\n`, { mode: 0o600 });
  console.log(`Admin account      ${saved.email}, password: ${saved.password}`);
  console.log(`API token          in ${tokenFile}: curl -H "Authorization: Bearer $(cat ${tokenFile})" ${api}/projects`);
  return saved.apiToken;
}

/** Commits `examples/site` into a local git repository under DATA_DIR and deploys it. */
async function deployExample(api: string, token: string): Promise<void> {
  const repo = join(apiConfig.dataDir, 'repos', 'example');
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  cpSync(join(root, 'examples', 'site'), repo, { recursive: true, filter: (src) => !/node_modules|[/\\]dist$/.test(src) });
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repo,
      stdio: 'pipe',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'example',
        GIT_AUTHOR_EMAIL: 'example@localhost',
        GIT_COMMITTER_NAME: 'example',
        GIT_COMMITTER_EMAIL: 'example@localhost',
      },
    });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'Example site');

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(api + path, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  };
  // The admin's project named `example` from an earlier start, or a new one.
  let project = (await call('GET', '/projects')).json.projects.find((p: { name: string }) => p.name === 'example');
  if (!project) {
    const created = await call('POST', '/projects', { name: 'example', gitUrl: repo });
    if (created.status !== 201) throw new Error(created.json.error?.message ?? `POST /projects answered ${created.status}`);
    project = created.json.project;
  }
  const deployed = await call('POST', '/deploy', { projectId: project.id });
  if (deployed.status !== 202) throw new Error(deployed.json.error?.message ?? `POST /deploy answered ${deployed.status}`);
  const id: string = deployed.json.deployment.id;
  console.log(`Deploying example (deployment ${id})...`);
  for (;;) {
    await sleep(300);
    const { deployment } = (await call('GET', `/deployments/${id}`)).json;
    if (deployment.status === 'READY') {
      console.log(`\nThe example site is live at ${project.url}\n(this deployment alone: ${deployment.url})\n`);
      return;
    }
    if (deployment.status === 'ERROR' || deployment.status === 'CANCELED') {
      const logs = (await call('GET', `/deployments/${id}/logs`)).json.lines as { message: string }[];
      throw new Error(`${deployment.status}: ${deployment.errorMessage}\n${logs.map((l) => l.message).join('\n')}`);
    }
  }
}
