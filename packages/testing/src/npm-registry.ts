/**
 * A small npm registry for tests of the toolchain installer: the abbreviated metadata document
 * and gzipped tarballs with a real sha512 integrity, built from files given in the test. It
 * counts requests, and can serve a tarball that no longer matches its published integrity.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { tempDir } from './fixtures.ts';

/** Path inside the package (without `package/`) → content; a mode for executables. */
export type PackageFiles = Record<string, string | { content: string; mode: number }>;

export interface FakeNpmRegistry {
  url: string;
  /** Every path asked for, in order. */
  requests: string[];
  /** From now on, serve other bytes for this tarball than its integrity says. */
  tamper(name: string, version: string): void;
  close(): Promise<void>;
}

async function packTarball(files: PackageFiles): Promise<Buffer> {
  const dir = tempDir('npm-pkg');
  for (const [path, file] of Object.entries(files)) {
    const full = join(dir, 'package', path);
    mkdirSync(dirname(full), { recursive: true });
    const { content, mode } = typeof file === 'string' ? { content: file, mode: 0o644 } : file;
    writeFileSync(full, content, { mode });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of tar.c({ cwd: dir, gzip: true, portable: true }, ['package'])) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const tarballName = (name: string, version: string) => `${name.replace(/^@[^/]+\//, '')}-${version}.tgz`;

/** Serves `packages` (name → version → files) on 127.0.0.1. */
export async function startFakeNpmRegistry(packages: Record<string, Record<string, PackageFiles>>): Promise<FakeNpmRegistry> {
  const tarballs = new Map<string, Buffer>();
  const documents = new Map<string, unknown>();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const [name, versions] of Object.entries(packages)) {
    const meta: Record<string, unknown> = {};
    for (const [version, files] of Object.entries(versions)) {
      const bytes = await packTarball(files);
      const path = `/${name}/-/${tarballName(name, version)}`;
      tarballs.set(path, bytes);
      meta[version] = { name, version, dist: { tarball: `${url}${path}`, integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}` } };
    }
    documents.set(`/${name.replace('/', '%2F')}`, { name, versions: meta });
  }
  const requests: string[] = [];
  server.on('request', (req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const doc = documents.get(path);
    if (doc) {
      res.writeHead(200, { 'content-type': 'application/vnd.npm.install-v1+json' }).end(JSON.stringify(doc));
      return;
    }
    const bytes = tarballs.get(path);
    if (bytes) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    else res.writeHead(404).end('{"error":"not found"}');
  });
  return {
    url,
    requests,
    tamper(name, version) {
      const path = `/${name}/-/${tarballName(name, version)}`;
      const bytes = tarballs.get(path);
      if (bytes) tarballs.set(path, Buffer.concat([bytes, Buffer.from('tampered')]));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
