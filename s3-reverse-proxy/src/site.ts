import { validateHeaderName, validateHeaderValue } from 'node:http';
import { contentKey, deploymentPrefix, isSha256Hex, type Manifest, type RoutingConfig } from '@platform/contracts';
import { compilePattern, encodePathValue, matchPattern, substitute, type CompiledPattern, type PatternMatch } from './pattern.ts';
import { isSafeDecodedPath, isSafeManifestKey, normalizeRequestPath } from './request-path.ts';
import {
  checkConditions,
  compileConditions,
  conditionInputs,
  conditionInputsKey,
  type CompiledConditions,
  type ConditionInput,
  type RequestFacts,
} from './rule-conditions.ts';

export type Encoding = 'identity' | 'br' | 'gzip';

/**
 * One representation of a file as the proxy sends it (the file itself or a precompressed
 * variant), with every response header computed once: hot requests only pick an array.
 */
export interface Representation {
  /** Also the file cache's key: content-addressed keys are shared by every deployment of a project. */
  objectKey: string;
  /**
   * Content-addressed files: the sha256 the bytes (a variant: once decompressed) must have
   * before they are cached or sent. Version 1 files have none (their keys are the deployment's own).
   */
  verify?: { sha256: string; encoding: Encoding };
  size: number;
  encoding: Encoding;
  /** Strong ETag, distinct per encoding. */
  etag: string;
  /** Flat `[name, value, ...]` arrays for `res.writeHead`. */
  headersHit: string[];
  headersMiss: string[];
  /** Without `x-cache`: HEAD answers. */
  headersBare: string[];
  /** A 304: validators and caching headers, no body headers. */
  headersNotModified: string[];
  /** Everything but content-length and x-cache: the base of 206 answers. */
  headersBase: string[];
}

export interface FileResponse {
  kind: 'file';
  status: 200 | 404;
  /** Path of the served file below the deployment prefix. */
  path: string;
  identity: Representation;
  br: Representation | null;
  gzip: Representation | null;
}

export type Resolved =
  | FileResponse
  | { kind: 'redirect'; status: number; location: string; headers: string[] }
  | { kind: 'bad-path'; status: 400 | 414 }
  | { kind: 'not-found'; headers: string[] };

interface SiteFile {
  path: string;
  size: number;
  hash: string;
  contentType: string;
  cacheControl: string;
  br?: { path: string; size: number };
  gzip?: { path: string; size: number };
}

interface Redirect {
  pattern: CompiledPattern;
  destination: string;
  statusCode: number;
  conditions: CompiledConditions | null;
  unlessFileExists: boolean;
}

interface Rewrite {
  pattern: CompiledPattern;
  destination: string;
  conditions: CompiledConditions | null;
  force: boolean;
}

interface HeaderRule {
  pattern: CompiledPattern;
  headers: { key: string; value: string }[];
  conditions: CompiledConditions | null;
}

/** No request facts given (tests, older callers): conditions see an empty request. */
const NO_FACTS: RequestFacts = { host: '', query: '', headers: {} };

/** Per computation: whether a rule with conditions was consulted, so the answer must not be memoized. */
interface Evaluation {
  facts: RequestFacts;
  dependent: boolean;
}

/** Cached 404.html answers get revalidated, never stored: the path may exist in the next deployment. */
const NOT_FOUND_CACHE_CONTROL = 'public, max-age=0, must-revalidate';
/** Per deployment: distinct request paths remembered, and the longest path worth remembering. */
const MEMO_LIMIT = 2_048;
const MEMO_MAX_PATH = 256;

/**
 * A deployment compiled for serving: its files by path, its `vercel.json` rules as regular
 * expressions, and a bounded memo from raw request path to the answer. Deployments are
 * immutable, so one request path always resolves the same way and the work is done once.
 */
export class Site {
  readonly deploymentId: string;
  /** Version 2 (content-addressed) manifests: the project whose content namespace holds the files; null for version 1. */
  readonly projectId: string | null;
  private readonly files = new Map<string, SiteFile>();
  private readonly routing: RoutingConfig;
  private readonly redirects: Redirect[] = [];
  private readonly rewrites: Rewrite[] = [];
  private readonly headerRules: HeaderRule[] = [];
  private readonly memo = new Map<string, Resolved>();
  private readonly memoSpa = new Map<string, Resolved>();
  /** File answers shared by every path that resolves to the same file, status and rule headers. */
  private readonly responses = new Map<string, FileResponse>();
  /** Rules that could not be compiled; reported once by whoever loads the site. */
  readonly problems: string[] = [];
  /** What the site's conditions read of a request (empty: every answer depends on the path alone). */
  private readonly inputs: ConditionInput[];

  constructor(manifest: Manifest) {
    this.deploymentId = manifest.deploymentId;
    this.projectId = manifest.version === 2 ? (manifest.projectId ?? '') : null;
    if (this.projectId !== null && !SAFE_PROJECT_ID.test(this.projectId)) {
      this.problems.push(`project id ${JSON.stringify(this.projectId)} is not a safe key segment; no file is served`);
    }
    for (const [path, file] of Object.entries(manifest.files)) {
      if (!isSafeManifestKey(path)) {
        this.problems.push(`file ${JSON.stringify(path)} has an unsafe path and is not served`);
        continue;
      }
      if (this.projectId !== null && (!isSha256Hex(file.hash) || !SAFE_PROJECT_ID.test(this.projectId))) {
        this.problems.push(`file ${JSON.stringify(path)} has no valid content hash and is not served`);
        continue;
      }
      const entry: SiteFile = { path, size: file.size, hash: file.hash, contentType: file.contentType, cacheControl: file.cacheControl };
      for (const encoding of ['br', 'gzip'] as const) {
        const variant = file.encodings?.[encoding];
        if (!variant) continue;
        // Version 2 derives every key from the hash; the path is only informative there.
        if (this.projectId !== null || isSafeManifestKey(variant.path)) entry[encoding] = { path: variant.path, size: variant.size };
        else this.problems.push(`variant ${JSON.stringify(variant.path)} has an unsafe path and is not served`);
      }
      this.files.set(path, entry);
    }
    this.routing = manifest.routing ?? { cleanUrls: false, redirects: [], rewrites: [], headers: [] };
    const compile = (source: string): CompiledPattern | null => {
      try {
        return compilePattern(source);
      } catch (err) {
        this.problems.push((err as Error).message);
        return null;
      }
    };
    const conditionsOf = (rule: Parameters<typeof compileConditions>[0]): CompiledConditions | null | false => {
      try {
        return compileConditions(rule);
      } catch (err) {
        this.problems.push((err as Error).message);
        return false;
      }
    };
    for (const rule of this.routing.redirects) {
      const pattern = compile(rule.source);
      const conditions = conditionsOf(rule);
      if (pattern && conditions !== false) {
        this.redirects.push({
          pattern,
          destination: rule.destination,
          statusCode: rule.statusCode,
          conditions,
          unlessFileExists: rule.unlessFileExists === true,
        });
      }
    }
    for (const rule of this.routing.rewrites) {
      const pattern = compile(rule.source);
      const conditions = conditionsOf(rule);
      if (!pattern || conditions === false) continue;
      // A static host cannot proxy to another origin; such rewrites are reported and skipped.
      if (/^[a-z][a-z0-9+.-]*:/i.test(rule.destination)) {
        this.problems.push(`rewrite to ${JSON.stringify(rule.destination)} points to another origin and is not supported`);
        continue;
      }
      this.rewrites.push({ pattern, destination: rule.destination, conditions, force: rule.force === true });
    }
    for (const rule of this.routing.headers) {
      const pattern = compile(rule.source);
      const conditions = conditionsOf(rule);
      if (pattern && conditions !== false) this.headerRules.push({ pattern, headers: rule.headers, conditions });
    }
    this.inputs = conditionInputs([...this.redirects, ...this.rewrites, ...this.headerRules].map((r) => r.conditions));
  }

  /**
   * The answer for a raw request path (query string removed). `spa` comes from the route
   * record; `facts` (host, query, headers) are read only by rules with `has`/`missing`.
   */
  resolve(rawPath: string, spa: boolean, facts: RequestFacts = NO_FACTS): Resolved {
    const memo = spa ? this.memoSpa : this.memo;
    let resolved = memo.get(rawPath);
    if (resolved !== undefined) return resolved;
    // A path a conditional rule decides is remembered with what the conditions read of the
    // request (`/beta` + the X-Beta value): whether a path depends on them is a property of
    // the path alone, since only a matching pattern consults a rule's conditions.
    const inputsKey = this.inputs.length === 0 ? null : conditionInputsKey(this.inputs, facts, MEMO_MAX_PATH);
    const dependentKey = inputsKey === null ? null : `${rawPath}\u0000${inputsKey}`;
    if (dependentKey !== null) {
      resolved = memo.get(dependentKey);
      if (resolved !== undefined) return resolved;
    }
    const evaluation: Evaluation = { facts, dependent: false };
    resolved = this.compute(rawPath, spa, evaluation);
    const key = evaluation.dependent ? dependentKey : rawPath;
    // Bounded: a crawl of random or long paths (or header values) costs a recomputation, never unbounded memory.
    if (key !== null && rawPath.length <= MEMO_MAX_PATH && resolved.kind !== 'bad-path') {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(key, resolved);
    }
    return resolved;
  }

  private compute(rawPath: string, spa: boolean, evaluation: Evaluation): Resolved {
    const path = normalizeRequestPath(rawPath);
    if (path === 'too-long') return { kind: 'bad-path', status: 414 };
    if (path === null) return { kind: 'bad-path', status: 400 };

    const ruleHeaders = this.headersFor(path, evaluation);
    const redirect = this.builtInRedirect(path) ?? this.userRedirect(path, evaluation);
    if (redirect) return { kind: 'redirect', status: redirect.status, location: redirect.location, headers: flatten(ruleHeaders) };

    let file = this.lookup(path);
    for (const rewrite of this.rewrites) {
      // Vercel's rewrites (and Netlify's 200 without `!`) apply only where no file is.
      if (file && !rewrite.force) continue;
      const match = this.ruleMatch(rewrite.pattern, rewrite.conditions, path, evaluation);
      if (!match) continue;
      const destination = substitute(rewrite.destination, match, (v) => v).split(/[?#]/)[0]!;
      file = isSafeDecodedPath(destination) ? this.lookup(destination) : undefined;
      break;
    }
    if (file) return this.fileResponse(file, 200, ruleHeaders);
    if (spa) {
      const index = this.files.get('index.html');
      if (index) return this.fileResponse(index, 200, ruleHeaders);
    }
    const notFound = this.files.get('404.html');
    if (notFound) return this.fileResponse(notFound, 404, ruleHeaders);
    return { kind: 'not-found', headers: flatten(ruleHeaders) };
  }

  /** Exact file, then `path/index.html`, then `path.html`. */
  private lookup(path: string): SiteFile | undefined {
    const key = path.slice(1);
    if (key === '') return this.files.get('index.html');
    if (key.endsWith('/')) return this.files.get(`${key}index.html`) ?? this.files.get(`${key.slice(0, -1)}.html`);
    return this.files.get(key) ?? this.files.get(`${key}/index.html`) ?? this.files.get(`${key}.html`);
  }

  /** `cleanUrls` and `trailingSlash`, applied before the project's own redirects, as Vercel does. */
  private builtInRedirect(path: string): { status: number; location: string } | null {
    const { cleanUrls, trailingSlash } = this.routing;
    const slash = trailingSlash === true ? '/' : '';
    if (cleanUrls) {
      const index = /^\/(?:(.+)\/)?index(?:\.html)?\/?$/.exec(path);
      if (index) {
        const dir = index[1];
        return { status: 308, location: dir ? `/${encodePathValue(dir)}${slash}` : '/' };
      }
      const html = /^\/(.+)\.html\/?$/.exec(path);
      if (html) return { status: 308, location: `/${encodePathValue(html[1]!)}${slash}` };
    }
    if (trailingSlash === true) {
      const dir = /^\/((?:[^/]+\/)*[^/.]+)$/.exec(path);
      if (dir) return { status: 308, location: `/${encodePathValue(dir[1]!)}/` };
      const fileWithSlash = /^\/((?:[^/]+\/)*[^/]+\.\w+)\/$/.exec(path);
      if (fileWithSlash) return { status: 308, location: `/${encodePathValue(fileWithSlash[1]!)}` };
    } else if (trailingSlash === false) {
      const withSlash = /^\/(.+)\/$/.exec(path);
      if (withSlash) return { status: 308, location: `/${encodePathValue(withSlash[1]!)}` };
    }
    return null;
  }

  /** The path match and the conditions' captures together, or null; marks the evaluation request-dependent when conditions were consulted. */
  private ruleMatch(pattern: CompiledPattern, conditions: CompiledConditions | null, path: string, evaluation: Evaluation): PatternMatch | null {
    const match = matchPattern(pattern, path);
    if (!match || !conditions) return match;
    evaluation.dependent = true;
    const captures = checkConditions(conditions, evaluation.facts);
    if (!captures) return null;
    for (const [name, value] of captures) if (!match.named.has(name)) match.named.set(name, value);
    return match;
  }

  private userRedirect(path: string, evaluation: Evaluation): { status: number; location: string } | null {
    for (const rule of this.redirects) {
      // Netlify's rules without `!` yield to a file at the path.
      if (rule.unlessFileExists && this.lookup(path)) continue;
      const match = this.ruleMatch(rule.pattern, rule.conditions, path, evaluation);
      if (!match) continue;
      const location = substitute(rule.destination, match, encodePathValue);
      if (!isValidHeaderValue('location', location)) return null;
      return { status: rule.statusCode, location };
    }
    return null;
  }

  /** Every matching header rule applies, in order; a later rule wins for the same header. */
  private headersFor(path: string, evaluation: Evaluation): Map<string, [string, string]> {
    const out = new Map<string, [string, string]>();
    for (const rule of this.headerRules) {
      const match = this.ruleMatch(rule.pattern, rule.conditions, path, evaluation);
      if (!match) continue;
      for (const { key, value } of rule.headers) {
        const filled = substitute(value, match, encodePathValue);
        if (isValidHeaderName(key) && isValidHeaderValue(key, filled)) out.set(key.toLowerCase(), [key, filled]);
      }
    }
    return out;
  }

  private fileResponse(file: SiteFile, status: 200 | 404, ruleHeaders: Map<string, [string, string]>): FileResponse {
    const key = ruleHeaders.size === 0 ? `${status} ${file.path}` : `${status} ${file.path}\n${flatten(ruleHeaders).join('\n')}`;
    let response = this.responses.get(key);
    if (response === undefined) {
      response = this.buildFileResponse(file, status, ruleHeaders);
      if (this.responses.size >= MEMO_LIMIT) this.responses.clear();
      this.responses.set(key, response);
    }
    return response;
  }

  private buildFileResponse(file: SiteFile, status: 200 | 404, ruleHeaders: Map<string, [string, string]>): FileResponse {
    const prefix = deploymentPrefix(this.deploymentId);
    const projectId = this.projectId;
    const keyOf = (encoding: Encoding, path: string): string => (projectId === null ? prefix + path : contentKey(projectId, file.hash, encoding));
    const vary = file.br || file.gzip ? 'Accept-Encoding' : null;
    const represent = (encoding: Encoding, path: string, size: number): Representation => {
      const etag = encoding === 'identity' ? `"${file.hash}"` : `"${file.hash}-${encoding}"`;
      // Defaults first; the project's header rules may override them, except the framing ones.
      const base = new Map<string, [string, string]>();
      base.set('content-type', ['Content-Type', file.contentType]);
      base.set('cache-control', ['Cache-Control', status === 404 ? NOT_FOUND_CACHE_CONTROL : file.cacheControl]);
      if (status === 200) {
        base.set('etag', ['ETag', etag]);
        base.set('accept-ranges', ['Accept-Ranges', 'bytes']);
      }
      if (vary) base.set('vary', ['Vary', vary]);
      for (const [lower, pair] of ruleHeaders) {
        if (!FRAMING_HEADERS.has(lower)) base.set(lower, pair);
      }
      if (encoding !== 'identity') base.set('content-encoding', ['Content-Encoding', encoding]);
      const headersBase = flatten(base);
      const withLength = [...headersBase, 'Content-Length', String(size)];
      const notModified = new Map<string, [string, string]>();
      for (const name of ['etag', 'cache-control', 'vary', 'content-location', 'expires']) {
        const pair = base.get(name);
        if (pair) notModified.set(name, pair);
      }
      return {
        objectKey: keyOf(encoding, path),
        ...(projectId === null ? {} : { verify: { sha256: file.hash, encoding } }),
        size,
        encoding,
        etag,
        headersBase,
        headersBare: withLength,
        headersHit: [...withLength, 'X-Cache', 'HIT'],
        headersMiss: [...withLength, 'X-Cache', 'MISS'],
        headersNotModified: flatten(notModified),
      };
    };
    return {
      kind: 'file',
      status,
      path: file.path,
      identity: represent('identity', file.path, file.size),
      br: file.br ? represent('br', file.br.path, file.br.size) : null,
      gzip: file.gzip ? represent('gzip', file.gzip.path, file.gzip.size) : null,
    };
  }
}

/** Project ids as the api-server makes them; anything else could climb out of `content/`. */
const SAFE_PROJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Headers the proxy owns: a project's header rule cannot change how the body is framed. */
const FRAMING_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range', 'connection', 'etag', 'x-cache']);

function flatten(headers: Map<string, [string, string]>): string[] {
  const out: string[] = [];
  for (const [name, value] of headers.values()) out.push(name, value);
  return out;
}

function isValidHeaderName(name: string): boolean {
  try {
    validateHeaderName(name);
    return true;
  } catch {
    return false;
  }
}

function isValidHeaderValue(name: string, value: string): boolean {
  try {
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}
