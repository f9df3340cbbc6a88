/**
 * Netlify's `_redirects` and `_headers` files in the output folder, read as Netlify reads
 * them and compiled into the same `manifest.routing` as `vercel.json`: splats (`*` →
 * `:splat`), `:placeholders`, status codes (301/302/303/307/308 redirect, 200 rewrite), `!`
 * force, query matching (`id=:id`) and `Cookie=` conditions. What this platform cannot serve
 * (proxying to another site, per-path 404 pages, Country/Language/Role conditions, signed
 * proxies) is listed line by line for the build log, never silently dropped. Both files are
 * configuration, not part of the published site.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoutingConfig, RuleCondition } from '@platform/contracts';
import { readRepoFile, RepoLinkError } from './repo-files.ts';

export interface NetlifyRedirect {
  line: number;
  from: string;
  /** Query parameters the request must carry: a value, or `:name` to capture it. */
  query: Record<string, string>;
  to: string;
  status: number;
  force: boolean;
  /** `Cookie=a,b`, `Country=…`: the conditions after the status. */
  conditions: Record<string, string>;
}

export interface NetlifyHeaderRule {
  for: string;
  values: Record<string, string>;
}

export interface Parsed<T> {
  rules: T[];
  /** `line 3: reason`, for the build log. */
  problems: string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Netlify's own limits are in the thousands of rules; a larger file is a mistake or an attack on the proxy. */
const MAX_RULES_FILE_BYTES = 2 * 1024 ** 2;
const MAX_RULES = 4096;
const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** One rule per line: `from [key=value ...] to [status[!]] [Condition=value ...]`. */
export function parseRedirectsFile(text: string): Parsed<NetlifyRedirect> {
  const rules: NetlifyRedirect[] = [];
  const problems: string[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    const content = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!content) continue;
    const tokens = content.split(/\s+/);
    const from = tokens.shift()!;
    if (!from.startsWith('/') && !isUrl(from)) {
      problems.push(`line ${line}: "${from}" is not a path`);
      continue;
    }
    const query: Record<string, string> = {};
    while (tokens.length > 0 && /^[^/][^=]*=/.test(tokens[0]!) && !isUrl(tokens[0]!)) {
      const [key, ...value] = tokens.shift()!.split('=');
      query[key!] = value.join('=');
    }
    const to = tokens.shift();
    if (!to) {
      problems.push(`line ${line}: no destination`);
      continue;
    }
    let status = 301;
    let force = false;
    const statusToken = /^(\d{3})(!?)$/.exec(tokens[0] ?? '');
    if (statusToken) {
      tokens.shift();
      status = Number(statusToken[1]);
      force = statusToken[2] === '!';
    }
    const conditions: Record<string, string> = {};
    let bad = false;
    for (const token of tokens) {
      const eq = token.indexOf('=');
      if (eq <= 0) {
        problems.push(`line ${line}: "${token}" is not understood`);
        bad = true;
        break;
      }
      conditions[token.slice(0, eq)] = token.slice(eq + 1);
    }
    if (bad) continue;
    rules.push({ line, from, query, to, status, force, conditions });
  }
  return { rules, problems };
}

/** A path line, then its indented `Name: value` lines; a name given twice is joined with ", ". */
export function parseHeadersFile(text: string): Parsed<NetlifyHeaderRule> {
  const rules: NetlifyHeaderRule[] = [];
  const problems: string[] = [];
  let current: NetlifyHeaderRule | null = null;
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    const content = raw.replace(/^\s*#.*$/, '');
    if (!content.trim()) continue;
    if (!/^\s/.test(content)) {
      const path = content.trim();
      if (!path.startsWith('/') && !isUrl(path)) {
        problems.push(`line ${line}: "${path}" is not a path`);
        current = null;
        continue;
      }
      current = { for: path, values: {} };
      rules.push(current);
      continue;
    }
    const colon = content.indexOf(':');
    if (!current) problems.push(`line ${line}: a header before any path`);
    else if (colon === -1) problems.push(`line ${line}: "${content.trim()}" is not "Name: value"`);
    else {
      const name = content.slice(0, colon).trim();
      const value = content.slice(colon + 1).trim();
      current.values[name] = current.values[name] === undefined ? value : `${current.values[name]}, ${value}`;
    }
  }
  return { rules, problems };
}

/** `/news/*` → `/news/:splat*`; placeholders stay; everything else is literal. */
export function netlifyPathToPattern(path: string): string {
  const escaped = path.replace(/[(){}?+\\]/g, (c) => `\\${c}`);
  return escaped.endsWith('/*') ? `${escaped.slice(0, -2)}/:splat*` : escaped === '*' ? '/:splat*' : escaped.replace(/\*$/, ':splat*');
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function queryConditions(query: Record<string, string>): RuleCondition[] {
  return Object.entries(query).map(([key, value]) =>
    value.startsWith(':') ? { type: 'query', key, value: `(?<${value.slice(1).replace(/\W/g, '')}>.*)` } : { type: 'query', key, value: escapeRegex(value) },
  );
}

/** What the rule cannot be served as, or null. */
function unsupportedReason(rule: NetlifyRedirect): string | null {
  if (isUrl(rule.from)) return 'a rule for a whole domain is not supported (hostnames are set in the project)';
  const other = Object.keys(rule.conditions).filter((c) => c.toLowerCase() !== 'cookie');
  if (other.length > 0) return `conditions ${other.join(', ')} are not supported`;
  if (rule.status === 200 && isUrl(rule.to)) return 'a 200 rewrite to another site (proxying) is not supported';
  if (rule.status === 200) return null;
  if (REDIRECT_STATUSES.has(rule.status)) return null;
  return `status ${rule.status} is not supported (only 200 rewrites and 301, 302, 303, 307, 308 redirects)`;
}

export interface NetlifyRouting {
  redirects: RoutingConfig['redirects'];
  rewrites: RoutingConfig['rewrites'];
  headers: RoutingConfig['headers'];
  /** One line each: `_redirects line 4: /a /b 404: status 404 is not supported`. */
  unsupported: string[];
}

export function compileNetlifyRules(redirects: Parsed<NetlifyRedirect>, headers: Parsed<NetlifyHeaderRule>): NetlifyRouting {
  const out: NetlifyRouting = { redirects: [], rewrites: [], headers: [], unsupported: [] };
  for (const p of redirects.problems) out.unsupported.push(`_redirects ${p}`);
  for (const p of headers.problems) out.unsupported.push(`_headers ${p}`);
  for (const rule of redirects.rules) {
    const reason = out.redirects.length + out.rewrites.length >= MAX_RULES ? `more than ${MAX_RULES} rules` : unsupportedReason(rule);
    if (reason) {
      out.unsupported.push(`_redirects line ${rule.line}: ${rule.from} ${rule.to} ${rule.status}: ${reason}`);
      continue;
    }
    const cookies = (rule.conditions.Cookie ?? rule.conditions.cookie ?? '')
      .split(',')
      .filter(Boolean)
      .map((key): RuleCondition => ({ type: 'cookie', key }));
    const has = [...queryConditions(rule.query), ...cookies];
    const source = netlifyPathToPattern(rule.from);
    const conditions = has.length > 0 ? { has } : {};
    if (rule.status === 200) out.rewrites.push({ source, destination: rule.to, ...conditions, ...(rule.force ? { force: true } : {}) });
    else {
      out.redirects.push({
        source,
        destination: rule.to,
        statusCode: rule.status as 301 | 302 | 303 | 307 | 308,
        ...conditions,
        ...(rule.force ? {} : { unlessFileExists: true }),
      });
    }
  }
  for (const rule of headers.rules) {
    if (isUrl(rule.for)) {
      out.unsupported.push(`_headers: rules for a whole domain (${rule.for}) are not supported`);
      continue;
    }
    const list = Object.entries(rule.values).map(([key, value]) => ({ key, value }));
    if (list.length > 0) out.headers.push({ source: netlifyPathToPattern(rule.for), headers: list });
  }
  return out;
}

/** The two files of the output folder, compiled; null when it has neither. A file linking out of the repository is refused. */
export async function readNetlifyRules(repoDir: string, outputDir: string): Promise<(NetlifyRouting & { files: string[] }) | null> {
  const read = async (name: string) => {
    try {
      const info = await stat(join(outputDir, name));
      if (info.isFile() && info.size > MAX_RULES_FILE_BYTES) throw new NetlifyRulesError(`${name} is larger than ${MAX_RULES_FILE_BYTES / 1024 ** 2} MiB`);
      return await readRepoFile(repoDir, join(outputDir, name));
    } catch (err) {
      if (err instanceof NetlifyRulesError) throw err;
      if (err instanceof RepoLinkError) throw new NetlifyRulesError(`${name}: ${err.message}`);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw err;
    }
  };
  const [redirects, headers] = await Promise.all([read('_redirects'), read('_headers')]);
  if (redirects === null && headers === null) return null;
  const compiled = compileNetlifyRules(parseRedirectsFile(redirects ?? ''), parseHeadersFile(headers ?? ''));
  return { ...compiled, files: [...(redirects !== null ? ['_redirects'] : []), ...(headers !== null ? ['_headers'] : [])] };
}

export class NetlifyRulesError extends Error {}
