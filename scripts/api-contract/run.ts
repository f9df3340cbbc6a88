/**
 * `npm run test:api-contract`: the API's contract, checked the way users' tools see it.
 * Starts the platform on the embedded default (as `npm start` does) in a temporary data folder
 * on a free port, signs up an account, makes an API token and a project with a deployment
 * (and an env var, a deploy hook and a notification endpoint), then runs schemathesis with
 * every check against `GET /openapi.json`. Exits non-zero on any finding.
 *
 * schemathesis comes from PyPI into a venv of its own under `.venv/` (gitignored), at the
 * versions pinned in requirements.lock.txt; changing the lock file makes a fresh venv.
 * Extra arguments go to `schemathesis run` (e.g. `-- --max-examples 100 --seed 1`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiOptionsFrom, createApiServer, createDrivers, loadApiConfig } from '@platform/api-server';
import { createLogger } from '@platform/logger';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const lockFile = join(here, 'requirements.lock.txt');

/** The venv's schemathesis, installed on first use. */
function ensureSchemathesis(): string {
  const hash = createHash('sha256').update(readFileSync(lockFile)).digest('hex').slice(0, 8);
  const venv = join(root, '.venv', `schemathesis-${hash}`);
  const bin = join(venv, 'bin', 'schemathesis');
  if (existsSync(join(venv, '.complete'))) return bin;
  console.log(`Installing schemathesis into ${venv}...`);
  rmSync(venv, { recursive: true, force: true });
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  };
  run('python3', ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', '-r', lockFile]);
  writeFileSync(join(venv, '.complete'), '');
  return bin;
}

async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json().catch(() => null)) as any;
  if (!res.ok) throw new Error(`seeding: ${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** An account (and an API token), a project with a deployment, an env var, a hook and an endpoint; returns what the config file names. */
async function seed(base: string): Promise<Record<string, string>> {
  const session = await call(base, 'POST', '/auth/signup', { email: 'contract@example.test', password: 'correct horse battery staple' });
  // The run signs in with the session's access token: the fuzzer revokes the API tokens it
  // finds listed (this one too). Signing out and revoking sessions end sessions: those routes
  // are sent as another account, so the run's session outlives them.
  const token: string = session.accessToken;
  const other = { email: 'sessions@example.test', password: 'correct horse battery staple' };
  // Two sessions of it: signing out ends the first; the session routes use the second.
  const logoutToken: string = (await call(base, 'POST', '/auth/signup', other)).accessToken;
  const sessionsToken: string = (await call(base, 'POST', '/auth/login', other)).accessToken;
  await call(base, 'POST', '/auth/tokens', { name: 'api contract' }, token);
  // A repository that cannot be fetched: the deployments the fuzzer starts end at once.
  const gitUrl = 'https://git.invalid/contract/site.git';
  const project = (await call(base, 'POST', '/projects', { name: 'contract', gitUrl }, token)).project;
  const deployment = (await call(base, 'POST', '/deploy', { projectId: project.id }, token)).deployment;
  // Something in each of the project's lists.
  await call(base, 'POST', `/projects/${project.id}/env`, { key: 'GREETING', value: 'hello' }, token);
  await call(base, 'POST', `/projects/${project.id}/deploy-hooks`, { name: 'cms', branch: 'main' }, token);
  await call(base, 'POST', `/projects/${project.id}/notifications`, { url: 'http://127.0.0.1:9/hook' }, token);
  await call(base, 'POST', `/projects/${project.id}/domains`, { hostname: 'contract.example.test' }, token);
  return {
    API_TOKEN: token,
    LOGOUT_TOKEN: logoutToken,
    SESSIONS_TOKEN: sessionsToken,
    PROJECT_ID: project.id,
    DEPLOYMENT_ID: deployment.id,
  };
}

const schemathesis = ensureSchemathesis();
const dataDir = mkdtempSync(join(tmpdir(), 'platform-contract-'));
const config = loadApiConfig({
  PATH: process.env.PATH ?? '',
  DATA_DIR: dataDir,
  API_PORT: '0',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
  // The fuzzer sends thousands of requests from one address; 429 stays documented.
  LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
  WEBHOOK_RATE_LIMIT_PER_MINUTE: '100000',
  ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
  // Custom domains on, so their routes answer beyond 409 domains_disabled; DNS and the CA are
  // closed local ports (domains stay pending; nothing leaves the machine).
  CERTIFICATE_STORE_KEY: randomBytes(32).toString('hex'),
  DOMAIN_DNS_RESOLVER: '127.0.0.1:9',
  ACME_DIRECTORY_URL: 'https://127.0.0.1:9/directory',
});
const logger = createLogger({ level: config.LOG_LEVEL });
const deps = await createDrivers(config, logger);
const defaults = apiOptionsFrom(config, deps.runner);
// Sign-up stays open so the fuzzer can exercise it, even where builds cannot be sandboxed.
const api = await createApiServer(deps, { ...defaults, access: { ...defaults.access, signup: 'open' } });
const port = await api.listen(0);
const base = `http://127.0.0.1:${port}`;

const reportDir = join(root, 'test-artifacts', 'api-contract');
mkdirSync(reportDir, { recursive: true });

/** One line per pass: operations tested, cases generated, passed and failed, where the report is. */
function summarize(phases: string, report: string, code: number, logFile: string): string {
  const tested = /Tested:\s+(\d+)/.exec(report)?.[1] ?? '?';
  const cases = /Test cases:\s*\n\s*([^\n]+)/.exec(report)?.[1]?.trim() ?? 'no test cases reported';
  const verdict = code === 0 ? 'passed' : `FAILED (exit ${code})`;
  return `API contract, ${phases}: ${verdict}; ${tested} operations tested; ${cases}; full report in ${logFile}`;
}

let status = 1;
try {
  const values = await seed(base);
  const run = async (configFile: string, phases: string) => {
    const args = [
      '--config-file',
      join(here, configFile),
      'run',
      `${base}/openapi.json`,
      '--phases',
      phases,
      '--checks',
      'all',
      '--max-examples',
      process.env.CONTRACT_MAX_EXAMPLES ?? '15',
      '--workers',
      '2',
      '--report',
      'junit',
      '--report-dir',
      reportDir,
      ...process.argv.slice(2),
    ];
    const logFile = join(reportDir, `${configFile.replace(/\.toml$/, '')}.log`);
    console.log(`schemathesis ${args.join(' ')}`);
    const child = spawn(schemathesis, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...values, NO_COLOR: '1' },
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const code = await new Promise<number>((resolve) => child.on('close', (exit, signal) => resolve(exit ?? (signal ? 1 : 0))));
    const report = Buffer.concat(chunks).toString('utf8');
    writeFileSync(logFile, report);
    // schemathesis's own report is written to a file and summed up in one line here: its
    // pytest-style banners ("=== 2 warnings in 18s ===") read as a test run with no tests to
    // whatever scans CI output, and the full text is one click away when something fails.
    console.log(summarize(phases, report, code, relative(root, logFile)));
    if (code !== 0) console.log(report);
    return code;
  };
  // Two runs: the stateless phases on the seeded ids, then the stateful chains on their own.
  const stateless = await run('schemathesis.toml', 'examples,coverage,fuzzing');
  const stateful = await run('schemathesis-stateful.toml', 'stateful');
  status = stateless || stateful;
} catch (err) {
  console.error((err as Error).message);
} finally {
  await api.close();
  await deps.runner.close();
  await deps.bus.close();
  await deps.store.close?.();
  await deps.clickhouse.close();
  await deps.db.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(status);
