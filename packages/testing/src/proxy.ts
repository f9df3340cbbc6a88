/**
 * What the s3-reverse-proxy serves, written straight into an object store (a deployment's
 * files and manifest, route records), and requests to it with any Host header.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { deploymentPrefix, manifestKey, routeKey, type Manifest, type ManifestFile, type RouteRecord, type RoutingConfig } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import { jsonOrUndefined } from './http.ts';

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

/** Stores one file of a deployment (and its compressed variants) and returns its manifest entry. */
async function writeFile(store: ObjectStore, deploymentId: string, path: string, spec: string | Buffer | FixtureFile): Promise<ManifestFile> {
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
  return entry;
}

/** A deployment as a build uploads it: its files, then its manifest (with `routing` when given). */
export async function writeDeployment(
  store: ObjectStore,
  deploymentId: string,
  files: Record<string, string | Buffer | FixtureFile>,
  routing?: Partial<RoutingConfig>,
): Promise<Manifest> {
  const entries: Record<string, ManifestFile> = {};
  for (const [path, spec] of Object.entries(files)) entries[path] = await writeFile(store, deploymentId, path, spec);
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

/** The route record of `host`, as the api-server publishes it. */
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

/**
 * A request with any Host header (none when `host` is undefined) and any raw path: node:http
 * sends the path as given, and, unlike fetch, lets a caller set Host.
 */
export function send(port: number, host: string | undefined, path = '/', headers: Record<string, string> = {}, method = 'GET'): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers: host === undefined ? headers : { ...headers, host },
        setHost: host !== undefined,
        insecureHTTPParser: false,
      },
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

/** A request through the proxy as a browser on `host` would send it; headers as fetch gives them, the body also as JSON. */
export async function viaProxy(
  proxyPort: number,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Headers; text: string; body: Buffer; json: any }> {
  const res = await send(proxyPort, host, path, headers, method);
  const fetchHeaders = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) fetchHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
  return { status: res.status, headers: fetchHeaders, text: res.text, body: res.body, json: jsonOrUndefined(res.text) };
}
