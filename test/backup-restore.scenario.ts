/**
 * `npm run backup` and `npm run restore` for real (the scripts as processes, argument
 * arrays): a platform with an account, a project, an encrypted env var and a READY
 * deployment is stopped and backed up; the backup is restored into a fresh data folder (and,
 * with PostgreSQL, a fresh database); the platform started there signs the same user in,
 * lists the project, serves the deployment at its hostnames, and hands the env var, still
 * decryptable, to the next build.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiOptionsFrom, createApiServer, createDrivers, loadApiConfig, type ApiDeps } from '@platform/api-server';
import { createClickHouse, type ClickHouse } from '@platform/clickhouse';
import type { BuildTaskRequest } from '@platform/contracts';
import { createLogger } from '@platform/logger';
import type { Runner } from '@platform/runner';
import { createProxyServer } from '@platform/s3-reverse-proxy';
import { idleRunner } from '@platform/testing/fakes';
import { clearDefaultToken, createProject, http, setDefaultToken } from '@platform/testing/http';
import { idleBuild } from '@platform/testing/idle-builds';
import { HOST_ENV } from '@platform/testing/infra-env';
import type { Platform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

const ROOT = join(import.meta.dirname, '..');
const logger = createLogger({ level: 'warn' });

/** A runner that runs nothing and keeps every task it was given (to read the env it carried). */
function recordingRunner(): Runner & { tasks: BuildTaskRequest[] } {
  const tasks: BuildTaskRequest[] = [];
  const idle = idleRunner();
  const start: Runner['start'] = async (task) => {
    tasks.push(task);
    return idle.start(task);
  };
  return { ...idle, tasks, start };
}

/** The platform on `dataDir` (and `env`'s database), in this process, with a proxy; chDB is the test's one client. */
async function openPlatform(dataDir: string, env: Record<string, string>, clickhouse: ClickHouse) {
  const config = loadApiConfig({
    PATH: HOST_ENV.PATH ?? '',
    DATA_DIR: dataDir,
    API_PORT: '0',
    LOG_LEVEL: 'warn',
    CLICKHOUSE_URL: 'http://127.0.0.1:9',
    ...env,
  });
  const made = await createDrivers(config, logger);
  await made.clickhouse.close();
  await made.runner.close();
  const runner = recordingRunner();
  const deps: ApiDeps = { ...made, clickhouse, runner };
  const proxy = createProxyServer({ store: deps.store, bus: deps.bus, logger }, { routeTtlMs: 200, requestLogFlushMs: 100 });
  const proxyPort = await proxy.listen(0);
  const options = apiOptionsFrom({ ...config, PUBLIC_PORT: proxyPort }, runner);
  const api = await createApiServer(deps, { ...options, access: { ...options.access, signup: 'open' } });
  const url = `http://127.0.0.1:${await api.listen(0)}`;
  const close = async () => {
    clearDefaultToken(url);
    await proxy.close();
    await api.close();
    await deps.bus.close();
    await deps.store.close?.();
    await deps.db.close();
  };
  // What idleBuild needs of a test platform.
  const platform = { api: url, db: deps.db, deps, proxyPort } as unknown as Platform;
  return { url, proxyPort, runner, platform, close };
}

function npmScript(script: 'backup' | 'restore', args: string[], env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'backup', `${script}.ts`), ...args], {
    cwd: ROOT,
    env: { PATH: HOST_ENV.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  });
}

/**
 * `database()` gives the settings of a fresh, empty database (none: PGlite in DATA_DIR) and
 * is called twice: once for the original platform, once for the restored one.
 */
export function describeBackupRestore(label: string, database: () => Promise<{ env: Record<string, string>; drop(): Promise<void> }>, embedded: boolean): void {
  describe(`backup and restore (${label})`, () => {
    const folders: string[] = [];
    const drops: (() => Promise<void>)[] = [];
    const fresh = (prefix: string) => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      folders.push(dir);
      return dir;
    };
    const clickhouse = createClickHouse({ driver: 'chdb', path: join(fresh('backup-chdb-'), 'chdb') });
    afterAll(async () => {
      await clickhouse.close();
      for (const drop of drops) await drop();
      for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    });

    it('brings the platform back from a backup in a fresh data folder, with its users, projects and deployments serving', async () => {
      const first = await database();
      drops.push(first.drop);
      const dataA = fresh('backup-data-a-');
      const before = await openPlatform(dataA, first.env, clickhouse);
      const credentials = { email: 'restored@example.test', password: 'correct horse battery' };
      const session = (await http(before.url, 'POST', '/auth/signup', credentials)).json;
      setDefaultToken(before.url, session.accessToken);
      const project = await createProject(before.url, { name: 'kept site', gitUrl: 'https://git.example.com/site.git', productionBranch: 'main' });
      expect((await http(before.url, 'POST', `/projects/${project.id}/env`, { key: 'API_KEY', value: 'sealed-value-42' })).status).toBe(201);
      const deployment = await idleBuild(before.platform, project.id, { ref: 'main', files: { 'index.html': '<h1>restored page</h1>' } });
      const productionHost = new URL(project.url).hostname;
      await expect.poll(async () => (await viaProxy(before.proxyPort, productionHost)).text).toContain('restored page');
      await before.close();

      const backupDir = join(fresh('backup-out-'), 'backup');
      const backupOut = npmScript('backup', [backupDir], { DATA_DIR: dataA, ...first.env });
      expect(backupOut).toContain(`backup written to ${backupDir}`);
      // The original goes away entirely: only the backup is left.
      rmSync(dataA, { recursive: true, force: true });
      await first.drop();

      const second = await database();
      drops.push(second.drop);
      const dataB = fresh('backup-data-b-');
      expect(npmScript('restore', [backupDir], { DATA_DIR: dataB, ...second.env })).toContain('restored');
      const after = await openPlatform(dataB, second.env, clickhouse);
      try {
        const login = await http(after.url, 'POST', '/auth/login', credentials);
        expect(login.status).toBe(200);
        setDefaultToken(after.url, login.json.accessToken);
        expect((await http(after.url, 'GET', '/projects')).json.projects.map((p: { id: string }) => p.id)).toEqual([project.id]);
        const restored = (await http(after.url, 'GET', `/deployments/${deployment.id}`)).json.deployment;
        expect(restored.status).toBe('READY');
        expect((await viaProxy(after.proxyPort, productionHost)).text).toContain('restored page');
        expect((await viaProxy(after.proxyPort, new URL(deployment.url).hostname)).text).toContain('restored page');
        // The env var's key came back with the backup: the next build gets its value.
        const next = await http(after.url, 'POST', '/deploy', { projectId: project.id, ref: 'main' });
        expect(next.status).toBe(202);
        await expect
          .poll(() => after.runner.tasks.find((t) => t.deploymentId === next.json.deployment.id)?.buildEnv?.API_KEY, { timeout: 20_000 })
          .toBe('sealed-value-42');
      } finally {
        await after.close();
      }
      // Four platform starts and two script processes: minutes on a busy two-core machine.
    }, 300_000);

    // PGlite only: a PostgreSQL dump replaces the tables it holds by design (--clean).
    it.runIf(embedded)(
      'refuses to restore over a data folder that already holds a database',
      async () => {
        const db = await database();
        drops.push(db.drop);
        const data = fresh('backup-busy-');
        const running = await openPlatform(data, db.env, clickhouse);
        await running.close();
        const backupDir = join(fresh('backup-out-'), 'backup');
        npmScript('backup', [backupDir], { DATA_DIR: data, ...db.env });
        expect(() => npmScript('restore', [backupDir], { DATA_DIR: data, ...db.env })).toThrow(/is not empty: restore into a fresh data folder/);
      },
      300_000,
    );
  });
}
