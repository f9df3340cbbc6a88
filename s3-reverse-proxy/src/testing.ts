/** Test fixtures: deployments and route records written straight into an object store, and requests with a Host header. */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { deploymentPrefix, manifestKey, routeKey, type Manifest, type ManifestFile, type RouteRecord, type RoutingConfig } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';

export interface FixtureFile {
  body: string | Buffer;
  contentType?: string;
  cacheControl?: string;
  /** Write precompressed `.br` and `.gz` variants beside the file and list them in the manifest. */
  compress?: boolean;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  png: 'image/png',
};

export async function writeDeployment(
  store: ObjectStore,
  deploymentId: string,
  files: Record<string, string | Buffer | FixtureFile>,
  routing?: Partial<RoutingConfig>,
): Promise<Manifest> {
  const entries: Record<string, ManifestFile> = {};
  for (const [path, spec] of Object.entries(files)) {
    const file: FixtureFile = typeof spec === 'string' || Buffer.isBuffer(spec) ? { body: spec } : spec;
    const body = Buffer.isBuffer(file.body) ? file.body : Buffer.from(file.body);
    const ext = path.slice(path.lastIndexOf('.') + 1);
    await store.put(deploymentPrefix(deploymentId) + path, body);
    const entry: ManifestFile = {
      size: body.length,
      hash: createHash('sha256').update(body).digest('hex'),
      contentType: file.contentType ?? TYPES[ext] ?? 'application/octet-stream',
      cacheControl: file.cacheControl ?? (ext === 'html' ? 'public, max-age=0, must-revalidate' : 'public, max-age=31536000, immutable'),
    };
    if (file.compress) {
      const br = brotliCompressSync(body);
      const gz = gzipSync(body);
      await store.put(`${deploymentPrefix(deploymentId)}${path}.br`, br);
      await store.put(`${deploymentPrefix(deploymentId)}${path}.gz`, gz);
      entry.encodings = { br: { path: `${path}.br`, size: br.length }, gzip: { path: `${path}.gz`, size: gz.length } };
    }
    entries[path] = entry;
  }
  const manifest: Manifest = {
    version: 1,
    deploymentId,
    createdAt: new Date().toISOString(),
    files: entries,
    ...(routing ? { routing: { cleanUrls: false, redirects: [], rewrites: [], headers: [], ...routing } } : {}),
  };
  await store.put(manifestKey(deploymentId), JSON.stringify(manifest));
  return manifest;
}

export async function writeRoute(store: ObjectStore, host: string, record: Partial<RouteRecord> & { deploymentId: string }): Promise<void> {
  const full: RouteRecord = { projectId: 'prj_test', spa: false, updatedAt: new Date().toISOString(), ...record };
  await store.put(routeKey(host), JSON.stringify(full));
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** A request with any Host header and any raw path (node:http sends the path as given). */
export function send(port: number, host: string | undefined, path = '/', headers: Record<string, string> = {}, method = 'GET'): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, headers: host === undefined ? headers : { ...headers, host }, setHost: host !== undefined, insecureHTTPParser: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
