import { readFile, stat } from 'node:fs/promises';
import { readRepoFile, RepoLinkError } from './repo-files.ts';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command, Framework, PackageManagerName } from '@platform/contracts';

/** How the package manager is invoked: the program and the arguments before its own subcommand. */
export interface PackageManager {
  name: PackageManagerName;
  /** Exact version pinned by the `packageManager` field, or a major version guessed from the lockfile. */
  version: string | null;
  /** `yarn` 2+ ("berry") behaves differently from yarn 1. */
  berry: boolean;
  /** Argument-array prefix that runs it: `['pnpm']`, found on the build's PATH (see `tool`). */
  invoke: Command;
  /** The npm package the supervisor installs it from; null for npm without a pin (Node.js's own). */
  tool: ToolRequirement | null;
  /** The lockfile found (relative to the repository), or null. */
  lockfile: string | null;
}

/** A program installed from an npm package before the install step (see toolchains.ts). */
export interface ToolRequirement {
  /** What the log calls it: `pnpm`, `yarn`, `bun`. */
  program: string;
  /** The npm package that carries it: `pnpm`, `@yarnpkg/cli-dist`, `@oven/bun-linux-x64`. */
  package: string;
  /** An exact version (pinned by `packageManager`) or a major. */
  range: string;
  /** Program name → path inside the package, linked into the toolchain's bin folder. */
  bins: Record<string, string>;
}

export interface BuildPlan {
  framework: Framework;
  /** Null when there is no package.json: nothing to install. */
  packageManager: PackageManager | null;
  /** Where the install runs: the folder holding the lockfile (a monorepo's root) or the app folder. */
  installDir: string;
  install: Command | null;
  build: Command | null;
  /** Folders to look for the output in, in order; one when detected or set by the project. */
  outputCandidates: string[];
  /** One line per decision, for the build log: what was chosen and why. */
  reasons: string[];
  /** Non-fatal hints for the user (e.g. a Next.js app without static export). */
  warnings: string[];
  /** `engines.node` of the app's package.json, as written (the Node.js version is chosen in node-version.ts). */
  enginesNode?: unknown;
}

export interface PlanOverrides {
  installCommand?: Command;
  buildCommand?: Command;
  outputDirectory?: string;
  framework?: Framework;
  packageManager?: PackageManagerName;
}

export interface DetectOptions {
  /** The repository root: lockfiles are searched from the app folder up to here, never above. */
  repoDir: string;
  /** The bun package for this machine (`@oven/bun-linux-x64`...); default: from process.arch and the CPU. */
  bunPackage?: string;
}

interface PackageJson {
  scripts?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
  packageManager?: unknown;
  engines?: { node?: unknown };
}

interface FrameworkRule {
  id: Exclude<Framework, 'other' | 'static'>;
  label: string;
  /** A dependency that marks it. */
  dependency: string;
  /** Config files that confirm it when the dependency is absent (e.g. a global CLI). */
  configFiles: string[];
  /** Run through the package manager's exec when package.json has no "build" script. */
  buildBin: Command;
  output: string;
  /** When the output folder depends on the project's own configuration (angular.json, a VitePress source folder). */
  outputFrom?: (appDir: string, repoDir: string) => Promise<{ dir: string; why: string } | null>;
}

/**
 * Most specific first: Astro, SvelteKit and Docusaurus projects also depend on Vite or React,
 * so they must win over the generic rules below them.
 */
const FRAMEWORKS: readonly FrameworkRule[] = [
  {
    id: 'nextjs',
    label: 'Next.js',
    dependency: 'next',
    configFiles: ['next.config.js', 'next.config.mjs', 'next.config.ts'],
    buildBin: ['next', 'build'],
    output: 'out',
  },
  {
    id: 'gatsby',
    label: 'Gatsby',
    dependency: 'gatsby',
    configFiles: ['gatsby-config.js', 'gatsby-config.ts', 'gatsby-config.mjs'],
    buildBin: ['gatsby', 'build'],
    output: 'public',
  },
  {
    id: 'docusaurus',
    label: 'Docusaurus',
    dependency: '@docusaurus/core',
    configFiles: ['docusaurus.config.js', 'docusaurus.config.ts', 'docusaurus.config.mjs'],
    buildBin: ['docusaurus', 'build'],
    output: 'build',
  },
  {
    id: 'astro',
    label: 'Astro',
    dependency: 'astro',
    configFiles: ['astro.config.mjs', 'astro.config.js', 'astro.config.ts'],
    buildBin: ['astro', 'build'],
    output: 'dist',
  },
  {
    id: 'sveltekit',
    label: 'SvelteKit',
    dependency: '@sveltejs/kit',
    configFiles: ['svelte.config.js', 'svelte.config.mjs'],
    buildBin: ['vite', 'build'],
    output: 'build',
  },
  {
    id: 'nuxt',
    label: 'Nuxt',
    dependency: 'nuxt',
    configFiles: ['nuxt.config.ts', 'nuxt.config.js'],
    buildBin: ['nuxt', 'generate'],
    output: '.output/public',
  },
  {
    id: 'angular',
    label: 'Angular',
    dependency: '@angular/core',
    configFiles: ['angular.json'],
    buildBin: ['ng', 'build'],
    output: 'dist',
    outputFrom: angularOutput,
  },
  {
    id: 'eleventy',
    label: 'Eleventy',
    dependency: '@11ty/eleventy',
    configFiles: ['eleventy.config.js', 'eleventy.config.mjs', '.eleventy.js'],
    buildBin: ['eleventy'],
    output: '_site',
  },
  {
    id: 'vitepress',
    label: 'VitePress',
    dependency: 'vitepress',
    configFiles: [],
    buildBin: ['vitepress', 'build'],
    output: '.vitepress/dist',
    outputFrom: vitepressOutput,
  },
  // SPA mode (`ssr: false`): the static client build; a server build cannot be hosted statically.
  {
    id: 'react-router',
    label: 'React Router',
    dependency: '@react-router/dev',
    configFiles: ['react-router.config.ts'],
    buildBin: ['react-router', 'build'],
    output: 'build/client',
  },
  { id: 'remix', label: 'Remix', dependency: '@remix-run/dev', configFiles: [], buildBin: ['remix', 'vite:build'], output: 'build/client' },
  { id: 'create-react-app', label: 'Create React App', dependency: 'react-scripts', configFiles: [], buildBin: ['react-scripts', 'build'], output: 'build' },
  { id: 'vue-cli', label: 'Vue CLI', dependency: '@vue/cli-service', configFiles: ['vue.config.js'], buildBin: ['vue-cli-service', 'build'], output: 'dist' },
  {
    id: 'vite',
    label: 'Vite',
    dependency: 'vite',
    configFiles: ['vite.config.ts', 'vite.config.js', 'vite.config.mjs', 'vite.config.mts'],
    buildBin: ['vite', 'build'],
    output: 'dist',
  },
];

/** Angular's application builder writes `dist/<project>/browser`: the project named in angular.json. */
async function angularOutput(appDir: string, repoDir: string): Promise<{ dir: string; why: string } | null> {
  const text = await readRepoFile(repoDir, join(appDir, 'angular.json')).catch(() => null);
  if (text === null) return null;
  try {
    const config = JSON.parse(text) as { projects?: Record<string, { architect?: { build?: { options?: { outputPath?: unknown } } } }> };
    const [name, project] = Object.entries(config.projects ?? {})[0] ?? [];
    if (!name || !/^[\w.-]+$/.test(name)) return null;
    const outputPath = project?.architect?.build?.options?.outputPath;
    const base = typeof outputPath === 'string' && !outputPath.includes('..') ? outputPath : `dist/${name}`;
    return { dir: `${base}/browser`, why: `angular.json, project "${name}"` };
  } catch {
    return null;
  }
}

/** `vitepress build docs` writes `docs/.vitepress/dist`: the folder holding `.vitepress`. */
async function vitepressOutput(appDir: string): Promise<{ dir: string; why: string } | null> {
  for (const dir of ['docs', 'src', '.']) {
    if (await exists(join(appDir, dir, '.vitepress'))) {
      return { dir: dir === '.' ? '.vitepress/dist' : `${dir}/.vitepress/dist`, why: `VitePress, ${dir === '.' ? '' : `${dir}/`}.vitepress found` };
    }
  }
  return null;
}

/** Where an unknown build usually writes, checked in this order after the build. */
export const COMMON_OUTPUT_DIRS = ['dist', 'build', 'out', 'public'];

const LOCKFILES: readonly { file: string; manager: PackageManagerName }[] = [
  { file: 'bun.lock', manager: 'bun' },
  { file: 'bun.lockb', manager: 'bun' },
  { file: 'pnpm-lock.yaml', manager: 'pnpm' },
  { file: 'yarn.lock', manager: 'yarn' },
  { file: 'package-lock.json', manager: 'npm' },
  { file: 'npm-shrinkwrap.json', manager: 'npm' },
];

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function readPackageJson(dir: string, repoDir: string): Promise<PackageJson | null> {
  let text: string;
  try {
    text = await readRepoFile(repoDir, join(dir, 'package.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (err instanceof RepoLinkError) throw new DetectionError(err.message);
    throw err;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as PackageJson;
  } catch (err) {
    throw new DetectionError(`package.json is not valid JSON: ${(err as Error).message}`);
  }
}

export class DetectionError extends Error {}

/**
 * Decides how to build the app in `appDir`: package manager, framework, install and build
 * commands and output folder. Every project override wins over what is detected; each
 * decision is explained in `reasons`.
 */
export async function planBuild(appDir: string, overrides: PlanOverrides, options: DetectOptions): Promise<BuildPlan> {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const pkg = await readPackageJson(appDir, options.repoDir);

  if (!pkg || overrides.framework === 'static') return staticPlan(appDir, overrides, reasons, warnings);

  const pm = await detectPackageManager(appDir, pkg, overrides.packageManager, options);
  reasons.push(pm.reason);
  const installDir = pm.lockfileDir ?? appDir;

  const framework = await detectFramework(appDir, pkg, overrides.framework);
  reasons.push(framework.reason);
  const rule = FRAMEWORKS.find((f) => f.id === framework.id);
  if (rule) warnings.push(...(await frameworkWarnings(appDir, rule, pkg)));

  const hasBuildScript = typeof pkg.scripts?.build === 'string';
  let build: Command | null;
  let buildReason: string;
  if (overrides.buildCommand) {
    build = overrides.buildCommand;
    buildReason = `build command: ${build.join(' ')} (project setting)`;
  } else if (hasBuildScript) {
    build = [...pm.manager.invoke, 'run', 'build'];
    buildReason = `build command: ${build.join(' ')} (the "build" script of package.json)`;
  } else if (rule) {
    build = [...execPrefix(pm.manager), ...rule.buildBin];
    buildReason = `build command: ${build.join(' ')} (${rule.label} default; package.json has no "build" script)`;
  } else {
    build = null;
    buildReason = 'build command: none (no "build" script in package.json and no known framework)';
  }

  // Nothing to build means nothing needs installing, unless the project asked for it.
  let install: Command | null;
  if (overrides.installCommand) {
    install = overrides.installCommand;
    reasons.push(`install command: ${install.join(' ')} (project setting)`);
  } else if (build) {
    install = installCommand(pm.manager);
    const where = installDir === appDir ? '' : ` in ${relative(options.repoDir, installDir) || '.'} (the workspace root)`;
    reasons.push(`install command: ${install.join(' ')}${where}`);
  } else {
    install = null;
  }
  reasons.push(buildReason);

  let outputCandidates: string[];
  if (overrides.outputDirectory) {
    outputCandidates = [overrides.outputDirectory];
    reasons.push(`output directory: ${overrides.outputDirectory} (project setting)`);
  } else if (rule) {
    const configured = rule.outputFrom ? await rule.outputFrom(appDir, options.repoDir) : null;
    outputCandidates = [configured?.dir ?? rule.output];
    reasons.push(`output directory: ${configured?.dir ?? rule.output} (${configured?.why ?? `${rule.label} default`})`);
  } else if (build) {
    outputCandidates = COMMON_OUTPUT_DIRS;
    reasons.push(`output directory: the first of ${COMMON_OUTPUT_DIRS.join(', ')} that the build creates`);
  } else {
    outputCandidates = ['.'];
    reasons.push('output directory: . (no build step: the files as they are)');
  }

  return {
    framework: framework.id,
    packageManager: pm.manager,
    installDir,
    install,
    build,
    outputCandidates,
    reasons,
    warnings,
    enginesNode: pkg.engines?.node,
  };
}

/** No package.json, or the project says static: the files are deployed as they are. */
function staticPlan(appDir: string, overrides: PlanOverrides, reasons: string[], warnings: string[]): BuildPlan {
  const why =
    overrides.framework === 'static' ? 'framework: static files (project setting)' : 'framework: none, no package.json: deploying the files as they are';
  reasons.push(why);
  const output = overrides.outputDirectory ?? '.';
  reasons.push(`output directory: ${output}${overrides.outputDirectory ? ' (project setting)' : ' (the root directory)'}`);
  return {
    framework: 'static',
    packageManager: null,
    installDir: appDir,
    install: overrides.installCommand ?? null,
    build: overrides.buildCommand ?? null,
    outputCandidates: [output],
    reasons,
    warnings,
  };
}

async function detectFramework(appDir: string, pkg: PackageJson, override: Framework | undefined): Promise<{ id: Framework; reason: string }> {
  if (override) return { id: override, reason: `framework: ${override} (project setting)` };
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) };
  for (const rule of FRAMEWORKS) {
    if (rule.dependency in deps) return { id: rule.id, reason: `framework: ${rule.label} (package.json depends on ${rule.dependency})` };
  }
  for (const rule of FRAMEWORKS) {
    for (const file of rule.configFiles) {
      if (await exists(join(appDir, file))) return { id: rule.id, reason: `framework: ${rule.label} (${file} found)` };
    }
  }
  return { id: 'other', reason: 'framework: none recognised in package.json dependencies or config files' };
}

async function frameworkWarnings(appDir: string, rule: FrameworkRule, pkg: PackageJson): Promise<string[]> {
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) };
  if (rule.id === 'nextjs') {
    for (const file of rule.configFiles) {
      const text = await readRepoFile(appDir, join(appDir, file)).catch(() => null);
      if (text !== null) {
        return /output\s*:\s*['"]export['"]/.test(text)
          ? []
          : [`${file} does not set output: 'export'; a static host needs Next.js static export to produce "out"`];
      }
    }
    return [`no next.config.* with output: 'export'; a static host needs Next.js static export to produce "out"`];
  }
  if (rule.id === 'sveltekit' && !('@sveltejs/adapter-static' in deps)) {
    return ['SvelteKit without @sveltejs/adapter-static: the build may not produce static files in "build"'];
  }
  return [];
}

interface DetectedPackageManager {
  manager: PackageManager;
  lockfileDir: string | null;
  reason: string;
}

async function detectPackageManager(
  appDir: string,
  pkg: PackageJson,
  override: PackageManagerName | undefined,
  options: DetectOptions,
): Promise<DetectedPackageManager> {
  const repoDir = resolve(options.repoDir);
  // The nearest lockfile between the app folder and the repository root: a monorepo keeps one at its root.
  let lock: { dir: string; file: string; manager: PackageManagerName } | null = null;
  for (let dir = resolve(appDir); ; dir = dirname(dir)) {
    for (const candidate of LOCKFILES) {
      if (await exists(join(dir, candidate.file))) {
        lock = { dir, ...candidate };
        break;
      }
    }
    if (lock || dir === repoDir || !dir.startsWith(repoDir)) break;
  }
  // The `packageManager` field of the app, or of the workspace root that holds the lockfile.
  const rootPkg = lock && lock.dir !== resolve(appDir) ? await readPackageJson(lock.dir, repoDir).catch(() => null) : null;
  const field = parsePackageManagerField(pkg.packageManager) ?? parsePackageManagerField(rootPkg?.packageManager);

  let name: PackageManagerName;
  let why: string;
  if (override) {
    name = override;
    why = 'project setting';
  } else if (field) {
    name = field.name;
    why = `"packageManager": "${field.name}@${field.version}" in package.json`;
  } else if (lock) {
    name = lock.manager;
    why = `${relative(repoDir, join(lock.dir, lock.file))} found`;
  } else {
    name = 'npm';
    why = 'no lockfile, the default';
  }

  const lockfile = lock && lock.manager === name ? relative(repoDir, join(lock.dir, lock.file)) : null;
  const lockText = lockfile ? await readRepoFile(repoDir, join(repoDir, lockfile)).catch(() => '') : '';
  const pinned = field && field.name === name ? field.version : null;
  const version = pinned ?? guessMajor(name, lockText);
  const berry = name === 'yarn' && (version ? Number.parseInt(version, 10) >= 2 : /^__metadata:/m.test(lockText));
  const tool = packageManagerTool(name, pinned, version, berry, options.bunPackage ?? (await defaultBunPackage()));
  return {
    manager: { name, version, berry, invoke: [name], tool, lockfile },
    lockfileDir: lock && lock.manager === name ? lock.dir : null,
    reason: `package manager: ${name}${version ? ` ${version}` : ''} (${why})${lockfile ? '' : ', no lockfile'}`,
  };
}

function parsePackageManagerField(value: unknown): { name: PackageManagerName; version: string } | null {
  if (typeof value !== 'string') return null;
  // `pnpm@9.12.0` or `yarn@4.5.0+sha512.abc…`: the hash is corepack's, the version is what matters.
  const match = /^(npm|pnpm|yarn|bun)@(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:\+.*)?$/.exec(value.trim());
  return match ? { name: match[1] as PackageManagerName, version: match[2]! } : null;
}

/** The major version a lockfile was written by, when the `packageManager` field does not say. */
function guessMajor(name: PackageManagerName, lockText: string): string | null {
  if (name === 'pnpm') {
    const v = /^lockfileVersion:\s*'?(\d+)(?:\.(\d+))?/m.exec(lockText);
    if (!v) return null;
    const major = Number(v[1]);
    if (major >= 9) return '10';
    if (major === 6) return '8';
    if (major === 5) return '7';
    return null;
  }
  if (name === 'yarn') {
    if (/^__metadata:/m.test(lockText)) return '4';
    if (/^# yarn lockfile v1/m.test(lockText)) return '1';
    return null;
  }
  return null;
}

/**
 * Every package manager but an unpinned npm (Node.js's own) is installed from its npm package
 * by the supervisor and found on the build's PATH: nothing installed on the machine by hand is
 * used, and the version is exactly the pinned one or the newest of the lockfile's major.
 */
function packageManagerTool(
  name: PackageManagerName,
  pinned: string | null,
  version: string | null,
  berry: boolean,
  bunPackage: string,
): ToolRequirement | null {
  const range = pinned ?? version;
  switch (name) {
    case 'npm':
      return pinned ? { program: 'npm', package: 'npm', range: pinned, bins: { npm: 'bin/npm-cli.js', npx: 'bin/npx-cli.js' } } : null;
    case 'pnpm':
      return { program: 'pnpm', package: 'pnpm', range: range ?? '10', bins: { pnpm: 'bin/pnpm.cjs', pnpx: 'bin/pnpx.cjs' } };
    case 'yarn':
      return berry
        ? { program: 'yarn', package: '@yarnpkg/cli-dist', range: range ?? '4', bins: { yarn: 'bin/yarn.js', yarnpkg: 'bin/yarn.js' } }
        : { program: 'yarn', package: 'yarn', range: range ?? '1', bins: { yarn: 'bin/yarn.js', yarnpkg: 'bin/yarn.js' } };
    case 'bun':
      // bunx is bun itself, which looks at the name it was started as.
      return { program: 'bun', package: bunPackage, range: range ?? '1', bins: { bun: 'bin/bun', bunx: 'bin/bun' } };
  }
}

/** `@oven/bun-linux-x64`, its `-baseline` build for CPUs without AVX2, or the arm64 one. */
export async function defaultBunPackage(): Promise<string> {
  if (process.arch === 'arm64') return '@oven/bun-linux-aarch64';
  const cpu = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return /\bavx2\b/.test(cpu) ? '@oven/bun-linux-x64' : '@oven/bun-linux-x64-baseline';
}

function installCommand(pm: PackageManager): Command {
  const frozen = pm.lockfile !== null;
  switch (pm.name) {
    case 'npm':
      return frozen ? [...pm.invoke, 'ci', '--no-audit', '--no-fund'] : [...pm.invoke, 'install', '--no-audit', '--no-fund'];
    case 'pnpm':
      return [...pm.invoke, 'install', frozen ? '--frozen-lockfile' : '--no-frozen-lockfile'];
    case 'yarn':
      if (pm.berry) return [...pm.invoke, 'install', ...(frozen ? ['--immutable'] : [])];
      return [...pm.invoke, 'install', ...(frozen ? ['--frozen-lockfile'] : []), '--non-interactive'];
    case 'bun':
      return [...pm.invoke, 'install', ...(frozen ? ['--frozen-lockfile'] : [])];
  }
}

/** Runs a binary installed in node_modules/.bin. */
function execPrefix(pm: PackageManager): Command {
  switch (pm.name) {
    case 'npm':
      return ['npm', 'exec', '--no', '--'];
    case 'pnpm':
      return [...pm.invoke, 'exec'];
    case 'yarn':
    case 'bun':
      return [...pm.invoke, 'run'];
  }
}
