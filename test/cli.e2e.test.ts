import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '@platform/testing/cli';
import { gitRepoFromFixture, ROOT } from '@platform/testing/fixtures';
import { createProject, deploy } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

/** Small enough to test the limit with a modest file. */
const MAX_FILE_BYTES = 256 * 1024;

// The CLI as a user runs it (a child process of its own) against the whole platform on the
// embedded default: uploads, the build-event path, route records, the proxy.
describe('plat CLI against the embedded platform', () => {
  let platform: TestPlatform;
  let work: string;
  let site: string;
  let config: string;
  let slug: string;
  let env: Record<string, string>;
  const plat = (args: string[], options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}): Promise<CliRun> =>
    runCli(args, { cwd: options.cwd ?? site, env: { ...env, ...options.env }, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
  const host = (url: string) => new URL(url.trim()).host;
  const json = (run: CliRun) => JSON.parse(run.stdout) as { deployment: { id: string; status: string; url: string }; uploaded: number; files: number };

  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ UPLOAD_MAX_FILE_BYTES: String(MAX_FILE_BYTES) });
    work = mkdtempSync(join(tmpdir(), 'plat-cli-'));
    site = join(work, 'site');
    config = join(work, 'config');
    cpSync(join(ROOT, 'examples', 'site'), site, { recursive: true });
    const project = await createProject(platform.api, { name: 'CLI Site', gitUrl: 'https://git.example.com/cli-site.git' });
    slug = project.slug;
    env = { PLAT_API_URL: platform.api, XDG_CONFIG_HOME: config, NO_COLOR: '1' };
  });
  afterAll(async () => {
    await platform?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('logs in with a token, kept with mode 0600 under the XDG config folder', async () => {
    const run = await plat(['login', '--token', platform.token]);
    expect(run.stderr).toContain('Signed in as owner@example.test');
    expect(run.code).toBe(0);
    const file = join(config, 'plat', 'auth.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'plat')).mode & 0o077).toBe(0);
    const linked = await plat(['link', '--project', slug]);
    expect(linked.code).toBe(0);
    expect(statSync(join(site, '.plat', 'project.json')).isFile()).toBe(true);
  });

  it('deploys examples/site from its folder (built here with --prebuilt): the URL alone on stdout, served by the proxy', async () => {
    const run = await plat(['deploy', '--prebuilt']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^http:\/\/[^\s]+\n$/);
    expect(run.stderr).toMatch(/Uploading|Uploaded/);
    const home = await viaProxy(platform.proxyPort, host(run.stdout));
    expect(home.status).toBe(200);
    expect(home.text).toContain('<html');
    expect(home.text).not.toContain('%BUILT_AT%');
  });

  it('a redeploy of the same files uploads no content; one changed file uploads one', async () => {
    const dist = join(site, 'dist');
    const first = await plat(['deploy', dist, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const again = await plat(['deploy', dist, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again)).toMatchObject({ uploaded: 0, deployment: { status: 'READY' } });
    expect(json(again).files).toBeGreaterThan(2);

    writeFileSync(join(dist, 'about', 'index.html'), '<!doctype html><h1>About, changed by the CLI test</h1>');
    const changed = await plat(['deploy', dist, '--json']);
    expect(changed.code, changed.stderr).toBe(0);
    expect(json(changed).uploaded).toBe(1);
    const about = await viaProxy(platform.proxyPort, host(json(changed).deployment.url), '/about/');
    expect(about.text).toContain('changed by the CLI test');
    // The earlier deployment still serves what it served.
    expect((await viaProxy(platform.proxyPort, host(json(again).deployment.url), '/about/')).text).not.toContain('changed by the CLI test');
  });

  it('leaves out what .platignore names (gitignore syntax)', async () => {
    const dir = join(work, 'ignored');
    cpSync(join(site, 'dist'), dir, { recursive: true });
    cpSync(join(site, '.plat'), join(dir, '.plat'), { recursive: true });
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    writeFileSync(join(dir, '.platignore'), '# private notes\n*.txt\n');
    const run = await plat(['deploy', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect((await viaProxy(platform.proxyPort, host(run.stdout), '/secret.txt')).status).toBe(404);
    expect((await viaProxy(platform.proxyPort, host(run.stdout), '/.platignore')).status).toBe(404);
    expect((await viaProxy(platform.proxyPort, host(run.stdout), '/.plat/project.json')).status).toBe(404);
  });

  it('promotes and rolls back production', async () => {
    const dist = join(site, 'dist');
    writeFileSync(join(dist, 'index.html'), '<!doctype html><h1>release one</h1>');
    const one = await plat(['deploy', dist, '--prod']);
    expect(one.code, one.stderr).toBe(0);
    writeFileSync(join(dist, 'index.html'), '<!doctype html><h1>release two</h1>');
    const two = await plat(['deploy', dist, '--prod', '--json']);
    expect(two.code, two.stderr).toBe(0);
    const production = `${slug}.localhost`;
    expect((await viaProxy(platform.proxyPort, production)).text).toContain('release two');

    const back = await plat(['rollback']);
    expect(back.code, back.stderr).toBe(0);
    await expect.poll(async () => (await viaProxy(platform.proxyPort, production)).text, { timeout: 5_000 }).toContain('release one');

    const forward = await plat(['promote', json(two).deployment.id]);
    expect(forward.code, forward.stderr).toBe(0);
    await expect.poll(async () => (await viaProxy(platform.proxyPort, production)).text, { timeout: 5_000 }).toContain('release two');

    const listed = await plat(['ls', '--json']);
    const ids = (JSON.parse(listed.stdout) as { deployments: { id: string }[] }).deployments.map((d) => d.id);
    expect(ids[0]).toBe(json(two).deployment.id);
  });

  it('follows a build of a git project to its end over the socket', async () => {
    const project = await createProject(platform.api, { name: 'CLI Built', gitUrl: gitRepoFromFixture('vanilla-site') });
    const build = await deploy(platform.api, { projectId: project.id });
    const run = await plat(['logs', build.id, '--follow']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Deployment READY');
    expect(run.stdout).toMatch(/Uploaded \d+ files/);
    // Without --follow: the stored log, the same lines.
    const stored = await plat(['logs', build.id]);
    expect(stored.stdout.trim().split('\n').length).toBe(run.stdout.trim().split('\n').length);
  });

  it('manages environment variables: add, ls --json, pull (keys only), rm', async () => {
    expect((await plat(['env', 'add', 'API_BASE', 'https://api.example.test', '--target', 'preview'])).code).toBe(0);
    expect((await plat(['env', 'add', 'SECRET_KEY', '--target', 'preview'], { stdin: 's3cr3t\n' })).code).toBe(0);
    const listed = JSON.parse((await plat(['env', 'ls', '--json'])).stdout) as { envVars: { key: string }[] };
    expect(listed.envVars.map((v) => v.key).sort()).toEqual(['API_BASE', 'SECRET_KEY']);
    const pulled = await plat(['env', 'pull', join(work, 'pulled.env')]);
    expect(pulled.code).toBe(0);
    const text = (await import('node:fs')).readFileSync(join(work, 'pulled.env'), 'utf8');
    expect(text).toContain('SECRET_KEY=\n');
    expect(text).not.toContain('s3cr3t');
    expect((await plat(['env', 'rm', 'SECRET_KEY'])).code).toBe(0);
    expect((JSON.parse((await plat(['env', 'ls', '--json'])).stdout) as { envVars: unknown[] }).envVars).toHaveLength(1);
  });

  it('a bad token, a missing folder and an oversized file each end in one line on stderr and a non-zero exit', async () => {
    const oneLine = (run: CliRun) => {
      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe('');
      // Progress lines may come first (stderr is not a terminal here); the failure is one line, the last.
      const lines = run.stderr.trim().split('\n');
      expect(lines.filter((l) => l.startsWith('Error:'))).toHaveLength(1);
      expect(lines.at(-1)).toMatch(/^Error: /);
      return lines.at(-1)!;
    };
    expect(oneLine(await plat(['deploy', site, '--project', slug, '--token', 'plt_not-a-real-token']))).toMatch(
      /^Error: not signed in or the token is invalid/,
    );
    expect(oneLine(await plat(['deploy', join(work, 'no-such-folder'), '--project', slug]))).toContain('no such folder');
    const big = join(work, 'big');
    cpSync(join(site, '.plat'), join(big, '.plat'), { recursive: true });
    writeFileSync(join(big, 'index.html'), '<h1>big</h1>');
    writeFileSync(join(big, 'video.bin'), Buffer.alloc(MAX_FILE_BYTES + 1));
    expect(oneLine(await plat(['deploy', big]))).toMatch(/more than the limit of 262144 bytes/);
  });

  it('has help on every command', async () => {
    for (const command of ['login', 'logout', 'link', 'deploy', 'logs', 'ls', 'promote', 'rollback', 'env']) {
      const run = await plat([command, '--help']);
      expect(run.code, command).toBe(0);
      expect(run.stdout, command).toContain(`plat ${command}`);
    }
    const usage = await plat(['--help']);
    expect(usage.stdout).toContain('deploy');
    const unknown = await plat(['deploy', '--bogus']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown option --bogus');
  });
});
