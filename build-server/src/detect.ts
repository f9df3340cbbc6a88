import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from '@platform/contracts';

export interface BuildPlan {
  /** Null: plain static files, nothing to install or build. */
  install: Command | null;
  build: Command | null;
  outputDirectory: string;
  /** One line per decision, for the build log: what was chosen and why. */
  reasons: string[];
}

interface PackageJson {
  scripts?: Record<string, string>;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Decides how to build the app in `appDir`. Overrides from the project win; otherwise a
 * `package.json` with a `build` script is installed with npm and built with `npm run build`
 * into `dist`, and anything else is served as static files.
 */
export async function planBuild(
  appDir: string,
  overrides: { installCommand?: Command; buildCommand?: Command; outputDirectory?: string },
): Promise<BuildPlan> {
  const reasons: string[] = [];
  let pkg: PackageJson | null = null;
  try {
    pkg = JSON.parse(await readFile(join(appDir, 'package.json'), 'utf8')) as PackageJson;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`package.json is not valid JSON: ${(err as Error).message}`);
  }

  if (!pkg) {
    reasons.push('no package.json: deploying the files as they are');
    return {
      install: overrides.installCommand ?? null,
      build: overrides.buildCommand ?? null,
      outputDirectory: overrides.outputDirectory ?? '.',
      reasons,
    };
  }

  const hasBuildScript = typeof pkg.scripts?.build === 'string';
  const hasLockfile = await exists(join(appDir, 'package-lock.json'));
  const install: Command = overrides.installCommand ?? (hasLockfile ? ['npm', 'ci', '--no-audit', '--no-fund'] : ['npm', 'install', '--no-audit', '--no-fund']);
  reasons.push(
    overrides.installCommand
      ? 'install command: project setting'
      : `install command: npm (${hasLockfile ? 'package-lock.json found, using npm ci' : 'no lockfile, using npm install'})`,
  );
  const build: Command | null = overrides.buildCommand ?? (hasBuildScript ? ['npm', 'run', 'build'] : null);
  reasons.push(
    overrides.buildCommand
      ? 'build command: project setting'
      : hasBuildScript
        ? 'build command: the "build" script of package.json'
        : 'no "build" script in package.json: deploying the files as they are',
  );
  const outputDirectory = overrides.outputDirectory ?? (build ? 'dist' : '.');
  reasons.push(`output directory: ${outputDirectory}${overrides.outputDirectory ? ' (project setting)' : ' (default)'}`);
  return { install: build || overrides.installCommand ? install : null, build, outputDirectory, reasons };
}
