import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_FIXTURES as FIXTURES, removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { DetectionError, planBuild } from './detect.ts';

afterAll(removeTempDirs);

async function plan(fixture: string, options: { root?: string; overrides?: Parameters<typeof planBuild>[1] } = {}) {
  const repo = join(FIXTURES, fixture);
  return planBuild(join(repo, options.root ?? '.'), options.overrides ?? {}, { repoDir: repo, bunPackage: '@oven/bun-linux-x64' });
}

describe('planBuild: one fixture per framework family', () => {
  it.each([
    // fixture, framework, package manager invocation, install, build, output
    ['vite-app', 'vite', ['npm', 'ci', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'dist'],
    ['cra-app', 'create-react-app', ['yarn', 'install', '--frozen-lockfile', '--non-interactive'], ['yarn', 'run', 'build'], 'build'],
    ['next-static', 'nextjs', ['pnpm', 'install', '--frozen-lockfile'], ['pnpm', 'run', 'build'], 'out'],
    ['astro-site', 'astro', ['npm', 'ci', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'dist'],
    ['sveltekit-static', 'sveltekit', ['npm', 'install', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'build'],
    ['gatsby-site', 'gatsby', ['npm', 'install', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'public'],
    ['docusaurus-site', 'docusaurus', ['yarn', 'install', '--immutable'], ['yarn', 'run', 'build'], 'build'],
  ])('%s is detected as %s', async (fixture, framework, install, build, output) => {
    const p = await plan(fixture);
    expect(p.framework).toBe(framework);
    expect(p.install).toEqual(install);
    expect(p.build).toEqual(build);
    expect(p.outputCandidates).toEqual([output]);
    // The log explains each decision.
    expect(p.reasons.join('\n')).toMatch(/framework: .*\(package\.json depends on /);
  });

  it('deploys a folder without package.json as plain static files, nothing to install or build', async () => {
    const p = await plan('plain-html');
    expect(p).toMatchObject({ framework: 'static', packageManager: null, install: null, build: null, outputCandidates: ['.'] });
    expect(p.reasons[0]).toContain('no package.json');
  });

  it('says why it picked the package manager: lockfile, packageManager field, or the default', async () => {
    expect((await plan('vite-app')).reasons).toContain('package manager: npm (package-lock.json found)');
    expect((await plan('next-static')).reasons).toContain('package manager: pnpm 9.15.9 ("packageManager": "pnpm@9.15.9" in package.json)');
    expect((await plan('gatsby-site')).reasons).toContain('package manager: npm (no lockfile, the default), no lockfile');
    expect((await plan('cra-app')).reasons).toContain('package manager: yarn 1 (yarn.lock found)');
  });

  it('names the npm package each package manager is installed from: the pinned version, else the lockfile major', async () => {
    // Nothing installed on the machine is used: yarn 1, yarn berry and pnpm all come from the registry.
    expect((await plan('cra-app')).packageManager?.tool).toMatchObject({ package: 'yarn', range: '1', bins: { yarn: 'bin/yarn.js' } });
    expect((await plan('next-static')).packageManager?.tool).toMatchObject({ package: 'pnpm', range: '9.15.9', bins: { pnpm: 'bin/pnpm.cjs' } });
    expect((await plan('docusaurus-site')).packageManager?.tool).toMatchObject({ package: '@yarnpkg/cli-dist', range: '4.9.4' });
    expect((await plan('pnpm-monorepo', { root: 'apps/web' })).packageManager?.tool).toMatchObject({ package: 'pnpm', range: '10' });
    // npm without a pin is Node.js's own; with one, that exact npm.
    expect((await plan('vite-app')).packageManager?.tool).toBeNull();
    const dir = tempDir('detect');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ packageManager: 'npm@10.9.2', scripts: { build: 'x' } }));
    expect((await planBuild(dir, {}, { repoDir: dir })).packageManager?.tool).toMatchObject({
      package: 'npm',
      range: '10.9.2',
      bins: { npx: 'bin/npx-cli.js' },
    });
  });

  it('detects bun from bun.lock or bun.lockb, or a "packageManager": "bun@…" pin', async () => {
    for (const lockfile of ['bun.lock', 'bun.lockb']) {
      const dir = tempDir('detect');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { build: 'vite build' } }));
      writeFileSync(join(dir, lockfile), lockfile === 'bun.lock' ? '{ "lockfileVersion": 1 }' : 'binary');
      const p = await planBuild(dir, {}, { repoDir: dir, bunPackage: '@oven/bun-linux-x64-baseline' });
      expect(p.packageManager).toMatchObject({
        name: 'bun',
        lockfile,
        tool: { package: '@oven/bun-linux-x64-baseline', range: '1', bins: { bun: 'bin/bun', bunx: 'bin/bun' } },
      });
      expect(p.install).toEqual(['bun', 'install', '--frozen-lockfile']);
      expect(p.build).toEqual(['bun', 'run', 'build']);
      expect(p.reasons).toContain(`package manager: bun (${lockfile} found)`);
    }
    const pinned = tempDir('detect');
    writeFileSync(join(pinned, 'package.json'), JSON.stringify({ packageManager: 'bun@1.2.19', scripts: { build: 'x' } }));
    const p = await planBuild(pinned, {}, { repoDir: pinned, bunPackage: '@oven/bun-linux-x64' });
    expect(p.packageManager).toMatchObject({ name: 'bun', version: '1.2.19', tool: { range: '1.2.19' } });
    expect(p.install).toEqual(['bun', 'install']);
  });

  it.each([
    [
      '@angular/core',
      'angular',
      ['npm', 'exec', '--no', '--', 'ng', 'build'],
      'dist/shop/browser',
      { 'angular.json': JSON.stringify({ projects: { shop: {} } }) },
    ],
    [
      '@angular/core',
      'angular',
      ['npm', 'exec', '--no', '--', 'ng', 'build'],
      'out/web/browser',
      {
        'angular.json': JSON.stringify({ projects: { web: { architect: { build: { options: { outputPath: 'out/web' } } } } } }),
      },
    ],
    ['@11ty/eleventy', 'eleventy', ['npm', 'exec', '--no', '--', 'eleventy'], '_site', {}],
    [
      'vitepress',
      'vitepress',
      ['npm', 'exec', '--no', '--', 'vitepress', 'build'],
      'docs/.vitepress/dist',
      { 'docs/.vitepress/config.mts': 'export default {}' },
    ],
    ['@react-router/dev', 'react-router', ['npm', 'exec', '--no', '--', 'react-router', 'build'], 'build/client', {}],
    ['@remix-run/dev', 'remix', ['npm', 'exec', '--no', '--', 'remix', 'vite:build'], 'build/client', {}],
  ])('detects %s as %s, its build and its output folder', async (dependency, framework, build, output, files) => {
    const dir = tempDir('detect');
    // vite comes along with most of them: the specific framework must win.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ devDependencies: { [dependency]: '*', vite: '*' } }));
    for (const [path, content] of Object.entries(files)) {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    const p = await planBuild(dir, {}, { repoDir: dir });
    expect(p).toMatchObject({ framework, build, outputCandidates: [output] });
  });

  it('passes engines.node on, for the Node.js version to be chosen from', async () => {
    const dir = tempDir('detect');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ engines: { node: '>=22 <23' }, scripts: { build: 'x' } }));
    expect((await planBuild(dir, {}, { repoDir: dir })).enginesNode).toBe('>=22 <23');
  });

  it('monorepo: the root directory is the app, the install runs at the workspace root with its lockfile', async () => {
    const p = await plan('pnpm-monorepo', { root: 'apps/web' });
    expect(p.framework).toBe('vite');
    expect(p.packageManager).toMatchObject({ name: 'pnpm', version: '10', lockfile: 'pnpm-lock.yaml' });
    expect(p.installDir).toBe(join(FIXTURES, 'pnpm-monorepo'));
    expect(p.install).toEqual(['pnpm', 'install', '--frozen-lockfile']);
    expect(p.build).toEqual(['pnpm', 'run', 'build']);
    expect(p.reasons).toContain('install command: pnpm install --frozen-lockfile in . (the workspace root)');
  });

  it('every detected value can be overridden by the project', async () => {
    const p = await plan('vite-app', {
      overrides: {
        packageManager: 'pnpm',
        framework: 'astro',
        installCommand: ['make', 'deps'],
        buildCommand: ['make', 'site'],
        outputDirectory: 'public_html',
      },
    });
    expect(p).toMatchObject({ framework: 'astro', install: ['make', 'deps'], build: ['make', 'site'], outputCandidates: ['public_html'] });
    expect(p.packageManager?.name).toBe('pnpm');
    expect(p.reasons).toEqual(
      expect.arrayContaining([
        'framework: astro (project setting)',
        'build command: make site (project setting)',
        'output directory: public_html (project setting)',
      ]),
    );
    // `static` skips install and build even with a package.json.
    expect(await plan('vite-app', { overrides: { framework: 'static' } })).toMatchObject({ install: null, build: null, outputCandidates: ['.'] });
  });

  it('without a "build" script, runs the framework CLI through the package manager', async () => {
    const dir = tempDir('detect');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ devDependencies: { vite: '^7.0.0' } }));
    const p = await planBuild(dir, {}, { repoDir: dir });
    expect(p.build).toEqual(['npm', 'exec', '--no', '--', 'vite', 'build']);
  });

  it('an unknown build looks for the usual output folders; no build and no framework means the files as they are', async () => {
    const dir = tempDir('detect');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { build: 'make' } }));
    expect((await planBuild(dir, {}, { repoDir: dir })).outputCandidates).toEqual(['dist', 'build', 'out', 'public']);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'just-files' }));
    expect(await planBuild(dir, {}, { repoDir: dir })).toMatchObject({ framework: 'other', install: null, build: null, outputCandidates: ['.'] });
  });

  it('recognises a framework by its config file when the dependency is missing, and warns about non-static setups', async () => {
    const dir = tempDir('detect');
    cpSync(join(FIXTURES, 'next-static'), dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { build: 'next build' } }));
    writeFileSync(join(dir, 'next.config.mjs'), 'export default {};');
    const p = await planBuild(dir, {}, { repoDir: dir });
    expect(p.framework).toBe('nextjs');
    expect(p.reasons).toContain('framework: Next.js (next.config.mjs found)');
    expect(p.warnings[0]).toContain("output: 'export'");
  });

  it('rejects an invalid package.json with a clear message', async () => {
    const dir = tempDir('detect');
    writeFileSync(join(dir, 'package.json'), '{ "name": ');
    await expect(planBuild(dir, {}, { repoDir: dir })).rejects.toThrow(DetectionError);
    await expect(planBuild(dir, {}, { repoDir: dir })).rejects.toThrow(/package\.json is not valid JSON/);
  });
});
