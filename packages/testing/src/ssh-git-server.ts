/**
 * A real git server over ssh: Debian's OpenSSH daemon on a loopback port, every session
 * forced through `git-shell` (git's restricted login shell: fetch and push, nothing else), and
 * only the given public key accepted, like a repository's deploy key on GitHub.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_ENV } from './infra-env.ts';
import { freePort, portOpen } from './ports.ts';

const SSHD = '/usr/sbin/sshd';

export interface SshGitServer {
  /** `ssh://<user>@127.0.0.1:<port>`: append the absolute path of a bare repository. */
  url: string;
  close(): Promise<void>;
}

/** Installs openssh-server when sshd is missing (root only), as `.ci/run` does. */
export function ensureSshd(): void {
  if (existsSync(SSHD)) return;
  execFileSync('bash', [join(import.meta.dirname, '../../../scripts/ensure-apt.sh'), `${SSHD}=openssh-server`], { stdio: 'inherit' });
}

/** A fresh ed25519 key pair, as the platform's deploy keys are (made by ssh-keygen here, to test against). */
export function sshKeyPair(): { privateKey: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-key-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', join(dir, 'key')]);
    const read = (f: string) => execFileSync('cat', [join(dir, f)], { encoding: 'utf8' });
    return { privateKey: read('key'), publicKey: read('key.pub').trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startSshGitServer(authorizedKey: string): Promise<SshGitServer> {
  ensureSshd();
  const dir = mkdtempSync(join(tmpdir(), 'sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  writeFileSync(join(dir, 'authorized_keys'), `${authorizedKey.trim()}\n`, { mode: 0o600 });
  // sshd checks its privilege-separation folder exists.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      // Whatever the client asks to run goes through git-shell, which runs only git's fetch/push programs.
      'ForceCommand /usr/bin/git-shell -c "$SSH_ORIGINAL_COMMAND"',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { env: { PATH: HOST_ENV.PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not start: ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `ssh://${user}@127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
