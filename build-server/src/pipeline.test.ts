import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentKey, manifestKey, manifestSchema, type StatusEvent } from '@platform/contracts';
import { buildRepo, type FixtureBuild } from '@platform/testing/build';
import { git, removeTempDirs, repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { IMMUTABLE } from './content-types.ts';
import { redactUrl } from './pipeline.ts';

afterAll(removeTempDirs);

async function manifestOf(build: FixtureBuild) {
  return manifestSchema.parse(JSON.parse((await build.store.getBuffer(manifestKey(build.task.deploymentId)))!.toString()));
}

/** An ERROR ends the build with one status whose detail is one line, also the last log line. */
function expectError(build: FixtureBuild, reason: string | RegExp) {
  expect(build.result).toBe('ERROR');
  expect(build.final).toMatchObject({ type: 'status', status: 'ERROR' });
  const detail = build.final.detail!;
  expect(detail).not.toContain('\n');
  if (typeof reason === 'string') expect(detail).toBe(reason);
  else expect(detail).toMatch(reason);
  expect(build.logs.at(-1)).toMatchObject({ stream: 'stderr', message: `Error: ${detail}` });
}

describe('redactUrl', () => {
  it('hides credentials written into a git URL before it reaches the log', () => {
    expect(redactUrl('https://user:ghp_secret@github.com/org/repo.git')).toBe('https://***@github.com/org/repo.git');
    expect(redactUrl('https://github.com/org/repo.git')).toBe('https://github.com/org/repo.git');
    expect(redactUrl('git@github.com:org/repo.git')).toBe('git@github.com:org/repo.git');
  });
});

describe('runBuild on fixture repositories', () => {
  it('deploys plain HTML as it is, with vercel.json compiled into the manifest', async () => {
    const build = await buildRepo(repoFromFixture('plain-html'));
    expect(build.result).toBe('READY');
    const statuses = build.events.filter((e): e is StatusEvent => e.type === 'status');
    expect(statuses.map((s) => s.status)).toEqual(['BUILDING', 'BUILDING', 'READY']);
    expect(statuses[1]!.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(build.events.map((e) => e.seq)).toEqual(build.events.map((_, i) => i + 1));
    expect(build.text).toContain('Detected framework: none, no package.json: deploying the files as they are');
    expect(build.text).toContain('Read vercel.json: cleanUrls on, 0 redirects, 0 rewrites, 1 header rules');

    const manifest = await manifestOf(build);
    expect(Object.keys(manifest.files).sort()).toEqual(['about.html', 'css/site.css', 'index.html']);
    expect(manifest.routing).toEqual({
      cleanUrls: true,
      redirects: [],
      rewrites: [],
      headers: [{ source: '/css/(.*)', headers: [{ key: 'X-Plain', value: 'yes' }] }],
    });
    expect(manifest.files['css/site.css']).toMatchObject({
      contentType: 'text/css; charset=utf-8',
      // Content-addressed: the variants sit beside the content, named by its hash.
      encodings: { br: { path: '.br' }, gzip: { path: '.gz' } },
    });
  });

  it('installs, builds with the build env vars and uploads the output of a script-built site', async () => {
    const build = await buildRepo(repoFromFixture('script-site'), { task: { buildEnv: { PUBLIC_LABEL: 'from-env' } } });
    expect(build.result).toBe('READY');
    expect(build.text).toContain('Detected package manager: npm (no lockfile, the default), no lockfile');
    expect(build.text).toContain('Running install command: npm install --no-audit --no-fund');
    expect(build.text).toContain('Running build command: npm run build');
    expect(build.text).toContain('Detected output directory: the first of dist, build, out, public that the build creates');
    // Every build env value is masked in the log; the build itself sees the real one (data.json below).
    expect(build.logs).toContainEqual(expect.objectContaining({ stream: 'stdout', message: 'built ***' }));
    expect(build.logs).toContainEqual(expect.objectContaining({ stream: 'stderr', message: 'a warning on stderr' }));
    expect(build.text).toMatch(/The build command exited with code 0 after \d+\.\d s/);
    expect(build.text).toMatch(/Uploaded 5 files \(.*\) from "dist" with 1 brotli and 1 gzip variants/);

    const manifest = await manifestOf(build);
    expect(manifest.files['assets/app-3f9a1c2b.js']).toMatchObject({ cacheControl: IMMUTABLE });
    expect(manifest).toMatchObject({ version: 2, projectId: build.task.projectId });
    const data = contentKey(build.task.projectId, manifest.files['data.json']!.hash);
    expect(JSON.parse((await build.store.getBuffer(data))!.toString())).toEqual({
      built: true,
      label: 'from-env',
    });
  });

  it('never shows a build env value in the logs, and gives user commands nothing of the platform', async () => {
    const secret = 'sk_live_51Habcdef0123456789';
    const build = await buildRepo(repoFromFixture('hostile-env'), { task: { buildEnv: { SECRET_API_KEY: secret }, gitToken: 'ghp_tokenvalue0987654321' } });
    expect(build.result, build.text).toBe('READY');
    expect(build.text).toContain('HUNT DONE');
    expect(build.text).toContain('the secret is ***');
    expect(build.text).toContain('ENV SECRET_API_KEY=***');
    for (const event of build.events) expect(JSON.stringify(event)).not.toContain(secret);
    expect(build.text).not.toContain('ghp_tokenvalue0987654321');
    // What the install script saw: PATH, HOME, the package manager's own variables and the project's.
    const seen = build.logs.filter((l) => l.message.startsWith('ENV ')).map((l) => l.message.slice(4, l.message.indexOf('=')));
    const platform = seen.filter(
      (name) =>
        !/^(npm_|YARN_|BUN_INSTALL_CACHE_DIR$|XDG_(DATA|CACHE)_HOME$|PATH$|HOME$|PWD$|SHLVL$|_$|CI$|INIT_CWD$|NODE$|COLOR$|EDITOR$|SECRET_API_KEY$|PLATFORM_GIT_COMMIT_(SHA|MESSAGE)$)/.test(
          name,
        ),
    );
    expect(platform).toEqual([]);
    expect(seen).not.toContain('BUILD_TASK');
    expect(seen.some((name) => name.startsWith('GIT_CONFIG'))).toBe(false);
  });

  it("never reads a file of the platform's through a link in the repository: package.json, vercel.json, the lockfile", async () => {
    const secretDir = tempDir('platform-secret');
    const secret = join(secretDir, 'jwt-secret');
    writeFileSync(secret, 'platform-signing-key-do-not-leak-0123456789\n');
    for (const [name, extra] of [
      ['package.json', {}],
      ['vercel.json', { 'package.json': '{"scripts":{}}' }],
      ['package-lock.json', { 'package.json': '{"name":"x","scripts":{"build":"true"}}' }],
    ] as const) {
      const repo = repoFromFixture(null, { 'index.html': '<p>x</p>', ...extra });
      symlinkSync(secret, join(repo, name));
      git(repo, 'add', '-A');
      git(repo, 'commit', '--quiet', '-m', `link ${name}`);
      const build = await buildRepo(repo);
      expect(build.result, build.text).toBe('ERROR');
      expect(build.final.detail).toBe(`${name} is a link to a file outside the repository`);
      expect(build.text).not.toContain('platform-signing-key');
    }
  });

  it('bypasses the build cache when the deployment asks', async () => {
    const build = await buildRepo(repoFromFixture('script-site'), { task: { useBuildCache: false } });
    expect(build.result).toBe('READY');
    expect(build.text).toContain('Build cache: skipped (disabled for this deployment)');
  });

  it('caps the log volume with one notice, and the build goes on', async () => {
    const repo = repoFromFixture(null, { 'index.html': '<h1>x</h1>' });
    const build = await buildRepo(repo, {
      task: { buildCommand: ['node', '-e', 'for (let i = 0; i < 500; i++) console.log("noise " + i)'] },
      caps: { maxLines: 50, maxBytes: 1_000_000 },
    });
    expect(build.result).toBe('READY');
    expect(build.logs.filter((l) => l.message.startsWith('noise '))).toHaveLength(50);
    expect(build.logs.filter((l) => l.message.startsWith('Log limit reached'))).toHaveLength(1);
  });

  describe('each failure ends in ERROR with a one-line reason', () => {
    it('non-zero exit', async () => {
      const repo = repoFromFixture('script-site', { 'build.mjs': 'console.error("Error: Cannot find module ./missing"); process.exit(2);' });
      const build = await buildRepo(repo);
      expectError(build, 'build command "npm run build" exited with code 2');
      expect(build.logs).toContainEqual(expect.objectContaining({ stream: 'stderr', message: 'Error: Cannot find module ./missing' }));
    });

    it('timeout, which kills the command', async () => {
      const repo = repoFromFixture(null, { 'index.html': 'x' });
      const build = await buildRepo(repo, { task: { timeoutMs: 6_000, buildCommand: ['node', '-e', 'console.log("working"); setInterval(() => {}, 1000)'] } });
      expectError(build, 'build timed out after 6.0 s: build command "node -e console.log("working"); setInterval(() => {}, 1000)" was killed');
      expect(build.text).toContain('working');
    });

    it('missing output folder', async () => {
      const build = await buildRepo(repoFromFixture('script-site'), { task: { outputDirectory: 'public_html' } });
      expectError(build, 'output directory "public_html" was not found after the build');
    });

    it('no output folder found among the usual ones', async () => {
      const build = await buildRepo(repoFromFixture('script-site', { 'build.mjs': 'console.log("built nothing")' }));
      expectError(build, 'no output directory found after the build (looked for dist, build, out, public); set the output directory in the project settings');
    });

    it('oversized output', async () => {
      const build = await buildRepo(repoFromFixture('script-site'), { limits: { maxTotalBytes: 4096 } });
      expectError(build, /^output is \d+\.\d KB, more than the limit of 4\.0 KB$/);
      expect(await build.store.list(`deployments/${build.task.deploymentId}/`)).toEqual([]);
    });

    it('too many files', async () => {
      const build = await buildRepo(repoFromFixture('script-site'), { limits: { maxFiles: 2 } });
      expectError(build, 'output has 5 files, more than the limit of 2');
    });

    it('invalid vercel.json, naming the field', async () => {
      const repo = repoFromFixture('plain-html', { 'vercel.json': JSON.stringify({ redirects: [{ source: 'old', destination: '/' }] }) });
      expectError(await buildRepo(repo), 'vercel.json: redirects[0].source: must start with "/"');
    });

    it('a root directory that is missing or climbs out of the repository', async () => {
      expectError(
        await buildRepo(repoFromFixture('plain-html'), { task: { rootDirectory: 'apps/web' } }),
        'root directory "apps/web" does not exist in the repository',
      );
      expectError(await buildRepo(repoFromFixture('plain-html'), { task: { rootDirectory: '../..' } }), 'root directory "../.." points outside the repository');
    });

    it('an output folder or root directory that is a link out of the repository', async () => {
      const linked = repoFromFixture(null, { 'index.html': 'x' });
      const out = await buildRepo(linked, { task: { buildCommand: ['ln', '-s', '/etc', 'dist'], outputDirectory: 'dist' } });
      expectError(out, 'output directory "dist" is a link to a folder outside the repository');
      const repo = repoFromFixture(null, { 'index.html': 'x' });
      symlinkSync('/etc', join(repo, 'app'));
      git(repo, 'add', 'app');
      git(repo, 'commit', '--quiet', '-m', 'link');
      expectError(await buildRepo(repo, { task: { rootDirectory: 'app' } }), 'root directory "app" is a link to a folder outside the repository');
    });

    it('an unknown branch', async () => {
      expectError(await buildRepo(repoFromFixture('plain-html'), { task: { gitRef: 'nope' } }), /^clone failed: git fetch: .*nope/);
    });

    it('a hostile git URL, before git runs', async () => {
      const marker = `/tmp/pwned-${process.pid}`;
      expectError(await buildRepo(`ext::sh -c touch% ${marker}`), 'git remote helpers (such as ext::) are not allowed');
      expect(() => readFileSync(marker)).toThrow();
    });
  });
});
