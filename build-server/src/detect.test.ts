import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_FIXTURES as FIXTURES, removeTempDirs, tempDir } from '@platform/testing/fixtures';
import { DetectionError, planBuild } from './detect.ts';

afterAll(removeTempDirs);

const withPnpmAndYarn = async (name: string) => name === 'pnpm' || name === 'yarn';
const withNothing = async () => false;

async function plan(
  fixture: string,
  options: { root?: string; overrides?: Parameters<typeof planBuild>[1]; hasProgram?: (n: string) => Promise<boolean> } = {},
) {
  const repo = join(FIXTURES, fixture);
  return planBuild(join(repo, options.root ?? '.'), options.overrides ?? {}, { repoDir: repo, hasProgram: options.hasProgram ?? withNothing });
}

describe('planBuild: one fixture per framework family', () => {
  it.each([
    // fixture, framework, package manager invocation, install, build, output
    ['vite-app', 'vite', ['npm', 'ci', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'dist'],
    [
      'cra-app',
      'create-react-app',
      ['npx', '--yes', 'yarn@1', 'install', '--frozen-lockfile', '--non-interactive'],
      ['npx', '--yes', 'yarn@1', 'run', 'build'],
      'build',
    ],
    ['next-static', 'nextjs', ['npx', '--yes', 'pnpm@9.15.9', 'install', '--frozen-lockfile'], ['npx', '--yes', 'pnpm@9.15.9', 'run', 'build'], 'out'],
    ['astro-site', 'astro', ['npm', 'ci', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'dist'],
    ['sveltekit-static', 'sveltekit', ['npm', 'install', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'build'],
    ['gatsby-site', 'gatsby', ['npm', 'install', '--no-audit', '--no-fund'], ['npm', 'run', 'build'], 'public'],
    [
      'docusaurus-site',
      'docusaurus',
      ['npx', '--yes', '--package=@yarnpkg/cli-dist@4.9.4', '--', 'yarn', 'install', '--immutable'],
      ['npx', '--yes', '--package=@yarnpkg/cli-dist@4.9.4', '--', 'yarn', 'run', 'build'],
      'build',
    ],
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

  it('uses a global pnpm or yarn 1 when present and not pinned, npx otherwise', async () => {
    expect((await plan('cra-app', { hasProgram: withPnpmAndYarn })).install).toEqual(['yarn', 'install', '--frozen-lockfile', '--non-interactive']);
    // Pinned versions always run exactly that version.
    expect((await plan('next-static', { hasProgram: withPnpmAndYarn })).install?.slice(0, 3)).toEqual(['npx', '--yes', 'pnpm@9.15.9']);
  });

  it('monorepo: the root directory is the app, the install runs at the workspace root with its lockfile', async () => {
    const p = await plan('pnpm-monorepo', { root: 'apps/web', hasProgram: withPnpmAndYarn });
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
