/**
 * Private repositories cloned for real: over HTTPS from a git smart-HTTP server that demands
 * the token (`git http-backend`), and over ssh from Debian's OpenSSH daemon with git-shell that
 * accepts only the deploy key. The repository's own build then hunts for the credential
 * everywhere a user's command can look, and writes what it found into the site it deploys,
 * where no log masking applies: the test fails if the credential is in it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRepo, deployedFile, type FixtureBuild } from '@platform/testing/build';
import { repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { startGitHttpServer, type GitHttpServer } from '@platform/testing/git-http-server';
import { sshKeyPair, startSshGitServer, type SshGitServer } from '@platform/testing/ssh-git-server';

// Reads every environment, command line and small file it can reach from its folder up, and
// the checkout's git folder, into dist/loot.txt (deployed, so the test sees it unmasked).
const HUNT = `
import { readdirSync, readFileSync, statSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
const loot = [JSON.stringify(process.env)];
const read = (p) => { try { return readFileSync(p, 'latin1'); } catch { return null; } };
for (const pid of readdirSync('/proc').filter((e) => /^\\d+$/.test(e))) {
  for (const f of ['environ', 'cmdline']) { const v = read('/proc/' + pid + '/' + f); if (v) loot.push(v); }
}
let files = 0;
const walk = (dir, depth) => {
  if (depth > 6 || files > 5000) return;
  let entries; try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'proc' || name === 'sys' || name === 'dev') continue;
    const p = join(dir, name); let s; try { s = statSync(p); } catch { continue; }
    if (s.isDirectory()) walk(p, depth + 1);
    else if (s.isFile() && s.size < 65536) { files++; const v = read(p); if (v) loot.push(p + ':' + v); }
  }
};
walk(resolve('..', '..'), 0);
walk('/tmp', 0);
mkdirSync('dist', { recursive: true });
writeFileSync('dist/index.html', '<p>private site</p>');
writeFileSync('dist/loot.txt', loot.join('\\n'));
console.log('HUNTED ' + files + ' files');
`;

function privateRepo(): string {
  return repoFromFixture(null, {
    'package.json': JSON.stringify({ name: 'private-site', private: true, scripts: { build: 'node hunt.mjs' } }),
    'hunt.mjs': HUNT,
  });
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

function bareCopy(source: string): { root: string; path: string } {
  const root = tempDir('git-root');
  git(root, 'clone', '--quiet', '--bare', source, join(root, 'site.git'));
  return { root, path: join(root, 'site.git') };
}

async function loot(build: FixtureBuild): Promise<string> {
  const raw = await deployedFile(build.store, build.task.deploymentId, 'loot.txt');
  if (!raw) throw new Error(`no loot.txt uploaded; log:\n${build.text}`);
  return raw.toString('latin1');
}

/** The commands the builds run: no install (no dependencies), the hunt as the build. */
const commands = { installCommand: ['true'], buildCommand: ['node', 'hunt.mjs'], outputDirectory: 'dist' };

describe('a private repository over HTTPS with a token', () => {
  const token = 'ghs_installationTokenCanary0123456789';
  let server: GitHttpServer;
  let url: string;
  let commit: string;
  beforeAll(async () => {
    const source = privateRepo();
    commit = git(source, 'rev-parse', 'HEAD');
    const bare = bareCopy(source);
    server = await startGitHttpServer(bare.root, token);
    url = `${server.url}/site.git`;
  });
  afterAll(() => server.close());

  it('clones with the token on the supervisor side; the build cannot find it anywhere', async () => {
    const build = await buildRepo(url, { task: { gitToken: token, ...commands } });
    expect(build.result, build.text).toBe('READY');
    expect(build.text).toContain(`Cloned commit ${commit}`);
    const found = await loot(build);
    expect(found.length).toBeGreaterThan(1000);
    expect(found).not.toContain(token);
    expect(found).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'));
    expect(build.text).not.toContain(token);
  });

  it('a missing or wrong token ends in ERROR naming it, never showing it', async () => {
    const missing = await buildRepo(url, { task: commands });
    expect(missing.result).toBe('ERROR');
    expect(missing.final.detail).toMatch(/clone failed: the repository needs credentials and the project has none/);

    const wrongToken = 'ghs_wrongTokenValue99999999';
    const wrong = await buildRepo(url, { task: { gitToken: wrongToken, ...commands } });
    expect(wrong.result).toBe('ERROR');
    expect(wrong.final.detail).toMatch(/clone failed: the git host refused the HTTPS token/);
    for (const event of wrong.events) expect(JSON.stringify(event)).not.toContain(wrongToken);
  });
});

describe('a private repository over ssh with a deploy key (OpenSSH + git-shell)', () => {
  const deployKey = sshKeyPair();
  let server: SshGitServer;
  let url: string;
  beforeAll(async () => {
    const bare = bareCopy(privateRepo());
    server = await startSshGitServer(deployKey.publicKey);
    url = `${server.url}${bare.path}`;
  }, 60_000);
  afterAll(() => server?.close());

  it('clones with the deploy key; the build finds neither the key nor its file', async () => {
    const build = await buildRepo(url, { task: { gitSshKey: deployKey.privateKey, ...commands } });
    expect(build.result, build.text).toBe('READY');
    const found = await loot(build);
    const keyBody = deployKey.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    expect(keyBody.length).toBeGreaterThan(0);
    for (const line of keyBody) {
      expect(found).not.toContain(line);
      expect(build.text).not.toContain(line);
    }
    expect(found).not.toContain('OPENSSH PRIVATE KEY');
  });

  it('a missing or refused deploy key ends in ERROR naming it', async () => {
    const missing = await buildRepo(url, { task: commands });
    expect(missing.result).toBe('ERROR');
    expect(missing.final.detail).toMatch(/the ssh remote needs a deploy key and the project has none/);

    const other = sshKeyPair();
    const refused = await buildRepo(url, { task: { gitSshKey: other.privateKey, ...commands } });
    expect(refused.result).toBe('ERROR');
    expect(refused.final.detail).toMatch(/the ssh server refused the project's deploy key/);
    const otherLine = other.privateKey.split('\n')[1]!;
    for (const event of refused.events) expect(JSON.stringify(event)).not.toContain(otherLine);
  });
});

describe('system variables', () => {
  it("reach the user's commands, with the commit and its message from the checkout", async () => {
    const repo = repoFromFixture(null, {
      'package.json': JSON.stringify({ name: 'vars', private: true }),
      'show.mjs': `import { mkdirSync, writeFileSync } from 'node:fs'; mkdirSync('dist', { recursive: true }); writeFileSync('dist/vars.json', JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PLATFORM')))));`,
    });
    const build = await buildRepo(repo, {
      task: {
        installCommand: ['true'],
        buildCommand: ['node', 'show.mjs'],
        outputDirectory: 'dist',
        systemEnv: { PLATFORM: '1', PLATFORM_ENV: 'preview', PLATFORM_GIT_PULL_REQUEST_ID: '7' },
        buildEnv: { PLATFORM_ENV: 'user-wins' },
      },
    });
    expect(build.result, build.text).toBe('READY');
    const vars = JSON.parse((await deployedFile(build.store, build.task.deploymentId, 'vars.json'))!.toString());
    expect(vars).toEqual({
      PLATFORM: '1',
      PLATFORM_ENV: 'user-wins',
      PLATFORM_GIT_PULL_REQUEST_ID: '7',
      PLATFORM_GIT_COMMIT_SHA: git(repo, 'rev-parse', 'HEAD'),
      PLATFORM_GIT_COMMIT_MESSAGE: 'fixture',
    });
    // Not secret: the commit is shown in the log as it is.
    expect(build.text).toContain(git(repo, 'rev-parse', 'HEAD'));
  });
});
