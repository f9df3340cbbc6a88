import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRepo, deployedFile } from '@platform/testing/build';
import { removeTempDirs, repoFromFixture, tempDir } from '@platform/testing/fixtures';
import { startFakeNpmRegistry, type FakeNpmRegistry } from '@platform/testing/npm-registry';
import { TEST_SANDBOX } from '@platform/testing/sandbox';
import { nodePackageName } from './build-toolchains.ts';

// The whole pipeline, in the test sandbox, with Node.js "22" from a registry of our own: its
// `node` is a shell script that prints its version, which is enough to see which node the
// user's commands find first on their PATH. The integration suite builds with the real one.
afterAll(removeTempDirs);

let registry: FakeNpmRegistry;
beforeAll(async () => {
  registry = await startFakeNpmRegistry({
    [nodePackageName()]: { '22.99.0': { 'bin/node': { content: '#!/bin/sh\necho v22.99.0-fake\n', mode: 0o755 } } },
  });
  return () => registry.close();
});

const site = (files: Record<string, string>) =>
  repoFromFixture(null, { 'package.json': JSON.stringify({ name: 'pinned', scripts: { build: 'x' } }), ...files });
// The fake node cannot run npm: the steps are the project's own shell commands.
const task = {
  installCommand: ['sh', '-c', 'echo "install sees $(node --version)"'],
  buildCommand: ['sh', '-c', 'mkdir -p dist && node --version > dist/index.html && echo "build sees $(node --version)"'],
};

describe('a build pinned to another Node.js major', () => {
  it('runs install and build with the Node.js of .nvmrc, says so in the log, and keys the cache on it', async () => {
    const toolchains = { registry: registry.url, cacheDir: join(tempDir('cache'), 'toolchains') };
    const build = await buildRepo(site({ '.nvmrc': '22\n' }), { task, toolchains });
    expect(build.result, build.text).toBe('READY');
    expect(build.text).toMatch(/Node\.js 22\.99\.0 \(\.nvmrc asks for "22"\), downloaded, set up in/);
    expect(build.text).toContain('install sees v22.99.0-fake');
    expect(build.text).toContain('build sees v22.99.0-fake');
    // The terminal status carries the version, for the deployment page.
    expect(build.final).toMatchObject({ status: 'READY', nodeVersion: '22.99.0' });
    expect((await deployedFile(build.store, build.task.deploymentId, 'index.html'))!.toString()).toBe('v22.99.0-fake\n');
    // The toolchain folder is not part of the output, and the build cache is keyed on Node 22.
    expect(build.text).toMatch(/Build cache: miss \(build-cache\/proj1\/deps-npm-node22-/);
  });

  it('the project setting wins over engines.node; an unsupported version fails the build naming the supported ones', async () => {
    const toolchains = { registry: registry.url, cacheDir: join(tempDir('cache'), 'toolchains') };
    const repo = site({ 'package.json': JSON.stringify({ scripts: { build: 'x' }, engines: { node: '16.x' } }) });
    const failed = await buildRepo(repo, { task, toolchains });
    expect(failed.result).toBe('ERROR');
    expect(failed.final.detail).toBe(
      '"engines.node" in package.json asks for Node.js "16.x", which this platform does not build with; supported majors: 20, 22, 24, 26',
    );
    expect(failed.text).not.toContain('Running install command');

    const pinned = await buildRepo(repo, { task: { ...task, nodeVersion: '22' }, toolchains });
    expect(pinned.result, pinned.text).toBe('READY');
    expect(pinned.text).toContain('Node.js 22.99.0 (the project setting asks for "22")');
  });

  it.each([
    ['the test sandbox', TEST_SANDBOX],
    ['no isolation (single-user mode)', { isolation: 'none' } as const],
  ])('a hostile build that rewrites its Node.js and the cached tarball does not change the next build (%s)', async (_name, sandbox) => {
    const cacheDir = join(tempDir('cache'), 'toolchains');
    const toolchains = { registry: registry.url, cacheDir };
    const repo = site({ '.nvmrc': '22' });
    // Whatever the sandbox lets it reach: its own toolchain copy (always), the supervisor's cache (only without isolation).
    const attack = [
      'sh',
      '-c',
      `for f in "$(readlink -f "$(command -v node)")" ${cacheDir}/*.tgz; do printf '#!/bin/sh\\necho poisoned\\n' > "$f" 2>/dev/null && echo "overwrote $f"; done; mkdir -p dist && echo x > dist/index.html`,
    ];
    const hostile = await buildRepo(repo, { task: { ...task, buildCommand: attack, sandbox }, toolchains });
    expect(hostile.result, hostile.text).toBe('READY');
    // Without isolation the attack does overwrite both; the next build must not care.
    if (sandbox.isolation === 'none') expect(hostile.text).toMatch(/overwrote .*\.tgz/);
    const next = await buildRepo(repo, { task: { ...task, sandbox }, toolchains });
    expect(next.result, next.text).toBe('READY');
    expect(next.text).toContain('build sees v22.99.0-fake');
    expect(next.text).not.toContain('poisoned');
  });

  it('a registry that cannot be reached fails the build with a reason, not an internal error', async () => {
    const toolchains = { registry: 'http://127.0.0.1:9', cacheDir: join(tempDir('cache'), 'toolchains') };
    const build = await buildRepo(site({ '.node-version': '22' }), { task, toolchains });
    expect(build.result).toBe('ERROR');
    expect(build.final.detail).toMatch(/^could not ask the registry about node-/);
  });
});
