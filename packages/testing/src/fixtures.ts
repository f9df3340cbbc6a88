/**
 * The repository's test fixtures (sites and apps to build) and git repositories made from
 * them: `test/fixtures` for platform tests, `build-server/test/fixtures` for the build
 * pipeline's framework detection and builds.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HOST_ENV } from './infra-env.ts';

export const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Sites the whole platform deploys (test/fixtures). */
export const FIXTURES = join(ROOT, 'test', 'fixtures');
/** Framework apps the build pipeline detects and builds (build-server/test/fixtures). */
export const BUILD_FIXTURES = join(ROOT, 'build-server', 'test', 'fixtures');

/** A committer of the tests' own, and no system or user git configuration. */
const GIT_ENV = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@localhost',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@localhost',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: tmpdir(),
};

/** Runs git in `dir`; returns its trimmed output. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: { ...HOST_ENV, ...GIT_ENV }, stdio: 'pipe' })
    .toString()
    .trim();
}

/** Commits everything in `dir` (making it a repository on branch `main` first with `init`); returns the commit. */
export function gitCommitAll(dir: string, message: string, init = false): string {
  if (init) git(dir, 'init', '--quiet', '--initial-branch=main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

/** Copies a platform fixture (test/fixtures/`name`) into a fresh git repository (branch `main`, one commit) and returns its path. */
export function gitRepoFromFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `repo-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  gitCommitAll(dir, 'Initial commit', true);
  return dir;
}

const cleanups: string[] = [];

/** A fresh folder that `removeTempDirs` deletes; traversable by other uids, as a runner makes a build's work folder. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  // As a runner makes it: the sandbox's uid may pass through to the work folder it owns.
  chmodSync(dir, 0o711);
  cleanups.push(dir);
  return dir;
}

/** Deletes every folder `tempDir` made so far. */
export function removeTempDirs(): void {
  for (const dir of cleanups.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A fresh git repository (branch `main`, one commit) in a `tempDir`, holding a copy of the
 * build fixture `name` (none: empty); `files` are added or replaced.
 */
export function repoFromFixture(name: string | null, files: Record<string, string> = {}): string {
  const dir = tempDir(`repo-${name ?? 'empty'}`);
  if (name) cpSync(join(BUILD_FIXTURES, name), dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  gitCommitAll(dir, 'fixture', true);
  return dir;
}
