import { execFile } from 'node:child_process';
import { mkdir, realpath } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { isUnderRoots, validateGitUrl } from '@platform/contracts';
import { CloneProgress } from './clone-progress.ts';

export interface CloneResult {
  commit: string;
}

export interface CloneOptions {
  url: string;
  dir: string;
  ref?: string;
  commit?: string;
  /** Private repositories over https: sent as an Authorization header, never in the URL. */
  token?: string;
  /** PATH and HOME for git; nothing else of the caller's environment reaches it. */
  env: { PATH: string; HOME: string };
  /** Folders a local path may name (after its symlinks are followed); empty: no local paths. */
  localRoots: readonly string[];
  timeoutMs: number;
  /** The git program; tests point it at a recorder to prove that hostile input runs nothing. */
  gitBinary?: string;
  /** Progress lines for the build log (objects received, percentage, speed), a few per phase. */
  onProgress?: (line: string) => void;
}

export class GitInputError extends Error {}

const SHA = /^[0-9a-f]{7,40}$/;

/** Refs as git accepts them (`git check-ref-format`), minus anything that could read as an option. */
export function validateRef(ref: string): string {
  if (
    ref.length === 0 ||
    ref.length > 255 ||
    ref.startsWith('-') ||
    ref.startsWith('/') ||
    ref.endsWith('/') ||
    ref.endsWith('.') ||
    ref.endsWith('.lock') ||
    /[\s\0-\x1f\x7f~^:?*[\\]|\.\.|@\{|\/\/|\/\./.test(ref)
  ) {
    throw new GitInputError(`invalid git ref ${JSON.stringify(ref.slice(0, 100))}`);
  }
  return ref;
}

/**
 * The environment git runs with: nothing from the build-server's own, no system or global
 * config, only the transports a deployment may use, and the token (if any) as an
 * `http.extraHeader` given through GIT_CONFIG_* variables. Git does not write these to
 * `.git/config`, so the token is gone once the clone is done: the user's commands never see it.
 */
export function gitEnvironment(options: { PATH: string; HOME: string; token?: string; allowLocal: boolean }): Record<string, string> {
  const config: [string, string][] = [
    ['protocol.ext.allow', 'never'],
    ['core.hooksPath', '/dev/null'],
    ['core.fsmonitor', 'false'],
    ['credential.helper', ''],
  ];
  if (options.token) {
    const basic = Buffer.from(`x-access-token:${options.token}`).toString('base64');
    config.push(['http.extraHeader', `Authorization: Basic ${basic}`]);
  }
  const env: Record<string, string> = {
    PATH: options.PATH,
    HOME: options.HOME,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    // The host's system config stays out, except for local repositories: the build image's
    // /etc/gitconfig carries `safe.directory`, without which git refuses a repository owned
    // by another uid (a folder mounted into the build container).
    ...(options.allowLocal ? {} : { GIT_CONFIG_NOSYSTEM: '1' }),
    GIT_CONFIG_GLOBAL: '/dev/null',
    // Defence in depth behind validateGitUrl: git itself refuses every other transport (ext::, fd::, ...).
    GIT_ALLOW_PROTOCOL: options.allowLocal ? 'https:ssh:http:file' : 'https:ssh',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new',
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/**
 * Shallow fetch of exactly one commit or ref into `dir`. The URL and ref are validated before
 * git runs; git gets them after `--` so nothing can be read as an option.
 */
export async function cloneRepository(options: CloneOptions): Promise<CloneResult> {
  let url: string;
  try {
    url = validateGitUrl(options.url, { localRoots: options.localRoots });
  } catch (err) {
    throw new GitInputError((err as Error).message);
  }
  const allowLocal = options.localRoots.length > 0;
  const localPath = url.startsWith('file://') ? url.slice('file://'.length) : isAbsolute(url) ? url : null;
  if (localPath !== null) {
    // A symlink under an allowed folder must not lead out of it (to DATA_DIR, another tenant's repo).
    const [real, roots] = await Promise.all([
      realpath(localPath).catch(() => {
        throw new GitInputError(`local git repository ${JSON.stringify(localPath)} does not exist`);
      }),
      Promise.all(options.localRoots.map((root) => realpath(root).catch(() => root))),
    ]);
    if (!isUnderRoots(real, roots)) throw new GitInputError(`local git path ${JSON.stringify(localPath)} leads outside the allowed folders`);
  }
  if (options.ref !== undefined) validateRef(options.ref);
  if (options.commit !== undefined && !SHA.test(options.commit)) throw new GitInputError('commit must be a hex sha of 7 to 40 characters');
  // A local path clones through file:// so that --depth is honoured. Two commits, not one: an
  // ignored build step (`git diff --quiet HEAD^ HEAD -- .`) compares the commit with its parent.
  const CLONE_DEPTH = '2';
  const remote = isAbsolute(url) ? `file://${url}` : url;
  const env = gitEnvironment({ ...options.env, ...(options.token ? { token: options.token } : {}), allowLocal });
  const deadline = Date.now() + options.timeoutMs;
  const progress = new CloneProgress(options.onProgress ?? (() => {}));
  const git = (...args: string[]) => {
    // Only the fetches transfer objects: they report progress (git prints none to a pipe without --progress).
    const withProgress = args[0] === 'fetch' ? ['fetch', '--progress', ...args.slice(1)] : args;
    return runGit(options.gitBinary ?? 'git', withProgress, { cwd: options.dir, env, deadline, progress });
  };

  await mkdir(options.dir, { recursive: true });
  await git('init', '--quiet');
  await git('remote', 'add', 'origin', '--', remote);
  const commit = options.commit;
  if (commit && commit.length === 40) {
    // Servers (GitHub, GitLab, git >= 2.5 with protocol v2) let a client fetch a commit by its id.
    const byId = await git('fetch', '--quiet', '--depth', CLONE_DEPTH, '--no-tags', 'origin', '--', commit).then(
      () => true,
      () => false,
    );
    if (!byId) await git('fetch', '--quiet', '--no-tags', 'origin', '--', options.ref ?? 'HEAD');
    await git('checkout', '--quiet', '--detach', commit);
  } else if (commit) {
    // A short id cannot be fetched directly: fetch the branch's history and resolve it there.
    await git('fetch', '--quiet', '--no-tags', 'origin', '--', options.ref ?? 'HEAD');
    await git('checkout', '--quiet', '--detach', commit);
  } else {
    await git('fetch', '--quiet', '--depth', CLONE_DEPTH, '--no-tags', 'origin', '--', options.ref ?? 'HEAD');
    await git('checkout', '--quiet', '--detach', 'FETCH_HEAD');
  }
  const head = (await git('rev-parse', 'HEAD')).trim();
  if (commit && !head.startsWith(commit)) throw new Error(`checked out ${head}, expected ${commit}`);
  return { commit: head };
}

function runGit(
  program: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; deadline: number; progress: CloneProgress },
): Promise<string> {
  const timeout = options.deadline - Date.now();
  const farthest = () => (options.progress.last ? ` (got as far as: ${options.progress.last})` : '');
  if (timeout <= 0) return Promise.reject(new Error(`git timed out${farthest()}`));
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      args,
      { cwd: options.cwd, env: options.env, timeout, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const killed = (err as NodeJS.ErrnoException & { killed?: boolean }).killed;
        // The last line that is not progress: git's own reason.
        const reason = stderr
          .split(/[\r\n]/)
          .map((l) => l.trim())
          .filter((l) => l && !/^(remote: )?\w[\w ]+: +\d+%/.test(l))
          .pop();
        reject(new Error(`git ${args[0]}: ${killed ? `timed out${farthest()}` : reason || err.message}`));
      },
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => options.progress.write(chunk));
  });
}
