import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deploymentPrefix, manifestKey, type Manifest, type ManifestFile } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import { cachePolicyFor, contentTypeFor } from './content-types.ts';

export interface UploadLimits {
  maxFiles: number;
  maxTotalBytes: number;
  concurrency: number;
}

export class OutputTooLargeError extends Error {}

/** Every regular file under `dir`, as `/`-separated relative paths. Symlinks are skipped: they could point outside the build. */
export async function listOutputFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '.git') await walk(full);
      } else if (entry.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * Uploads the output folder under `deployments/<id>/` with bounded concurrency and retries,
 * then writes `_manifest.json` last: a deployment with a manifest is complete.
 */
export async function uploadOutput(options: {
  store: ObjectStore;
  deploymentId: string;
  dir: string;
  limits: UploadLimits;
  onSkip?: (path: string, why: string) => void;
}): Promise<Manifest> {
  const { store, deploymentId, dir, limits } = options;
  const files = (await listOutputFiles(dir)).filter((path) => {
    if (path === '_manifest.json') {
      options.onSkip?.(path, '_manifest.json is reserved for the platform');
      return false;
    }
    return true;
  });
  if (files.length > limits.maxFiles) {
    throw new OutputTooLargeError(`output has ${files.length} files, more than the limit of ${limits.maxFiles}`);
  }
  const entries: Record<string, ManifestFile> = {};
  let totalBytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const path = files[next++]!;
      const body = await readFile(join(dir, ...path.split('/')));
      totalBytes += body.length;
      if (totalBytes > limits.maxTotalBytes) {
        throw new OutputTooLargeError(`output is larger than the limit of ${formatBytes(limits.maxTotalBytes)}`);
      }
      const contentType = contentTypeFor(path);
      const cacheControl = cachePolicyFor(path, contentType);
      await withRetries(() => store.put(deploymentPrefix(deploymentId) + path, body, { contentType, cacheControl }));
      entries[path] = { size: body.length, hash: createHash('sha256').update(body).digest('hex'), contentType, cacheControl };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limits.concurrency, files.length)) }, worker));

  const manifest: Manifest = {
    version: 1,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: Object.fromEntries(Object.keys(entries).sort().map((k) => [k, entries[k]!])),
  };
  await withRetries(() =>
    store.put(manifestKey(deploymentId), JSON.stringify(manifest), {
      contentType: 'application/json',
      cacheControl: 'no-store',
    }),
  );
  return manifest;
}

async function withRetries<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await sleep(100 * 2 ** attempt + Math.random() * 100);
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} B`;
}
