/**
 * `vercel.json` source patterns, in the path-to-regexp style Vercel documents:
 * `/blog/:slug`, `/docs/:path*`, `/:id(\d+)`, `/:lang?/about`, `/(.*)`, `{/:x}?`.
 * Written here (small, no dependency) so the proxy compiles every rule once per deployment.
 *
 * Semantics follow Vercel's use of path-to-regexp: case sensitive, strict about the trailing
 * slash, anchored at both ends. A `:name` matches one segment; `*` and `+` repeat it across
 * segments (the value keeps its slashes) and `?` makes it optional, the leading `/` included.
 * Every capture group, named or not, is numbered from 1 for `$1` in destinations.
 */

export interface CompiledPattern {
  source: string;
  regex: RegExp;
  /** Name of each capture group by position (index 0 is `$1`); unnamed groups are null. */
  names: (string | null)[];
}

export class PatternError extends Error {
  constructor(source: string, reason: string) {
    super(`invalid source pattern ${JSON.stringify(source)}: ${reason}`);
    this.name = 'PatternError';
  }
}

const DEFAULT_SEGMENT = '[^/]+?';
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Compiles a source pattern; throws `PatternError` for one this proxy cannot honour. */
export function compilePattern(source: string): CompiledPattern {
  if (!source.startsWith('/')) throw new PatternError(source, 'must start with "/"');
  if (source.length > 1024) throw new PatternError(source, 'longer than 1024 characters');
  const names: (string | null)[] = [];
  const regex = `^${compileSequence(source, 0, source.length, names)}$`;
  try {
    return { source, regex: new RegExp(regex), names };
  } catch (err) {
    throw new PatternError(source, (err as Error).message);
  }
}

function compileSequence(source: string, start: number, end: number, names: (string | null)[]): string {
  let out = '';
  let i = start;
  while (i < end) {
    const ch = source[i]!;
    if (ch === '\\') {
      if (i + 1 >= end) throw new PatternError(source, 'dangling escape');
      out += escapeRegex(source[i + 1]!);
      i += 2;
      continue;
    }
    if (ch === '{') {
      const close = findClose(source, i, '{', '}', end);
      const inner = compileSequence(source, i + 1, close, names);
      const modifier = readModifier(source, close + 1, end);
      out += `(?:${inner})${modifier}`;
      i = close + 1 + modifier.length;
      continue;
    }
    if (ch === ':' || ch === '(') {
      let name: string | null = null;
      let pattern = DEFAULT_SEGMENT;
      let j = i;
      if (ch === ':') {
        const m = /^[A-Za-z0-9_]+/.exec(source.slice(i + 1, end));
        if (!m) throw new PatternError(source, `missing parameter name at ${i}`);
        name = m[0];
        j = i + 1 + name.length;
      }
      if (source[j] === '(' && j < end) {
        const close = findClose(source, j, '(', ')', end);
        pattern = source.slice(j + 1, close);
        if (pattern === '') throw new PatternError(source, `empty group at ${j}`);
        if (/\((?!\?)/.test(pattern.replace(/\\./g, ''))) {
          throw new PatternError(source, 'capturing groups are not allowed inside a parameter pattern; use (?:...)');
        }
        j = close + 1;
      }
      const modifier = readModifier(source, j, end);
      // A `/` right before the parameter belongs to it: `/:path*` also matches nothing at all.
      const prefix = out.endsWith('\\/') && (modifier === '?' || modifier === '*') ? '\\/' : '';
      if (prefix) out = out.slice(0, -2);
      names.push(name);
      if (modifier === '') out += `(${pattern})`;
      else if (modifier === '?') out += `(?:${prefix}(${pattern}))?`;
      else {
        const sep = prefix || (out.endsWith('\\/') ? '\\/' : '');
        const repeated = `((?:${pattern})(?:${sep || '\\/'}(?:${pattern}))*)`;
        out += modifier === '+' ? repeated : `(?:${prefix}${repeated})?`;
      }
      i = j + modifier.length;
      continue;
    }
    if (ch === '}' || ch === ')') throw new PatternError(source, `unbalanced "${ch}" at ${i}`);
    out += escapeRegex(ch);
    i++;
  }
  return out;
}

function readModifier(source: string, at: number, end: number): '' | '?' | '*' | '+' {
  if (at >= end) return '';
  const c = source[at];
  return c === '?' || c === '*' || c === '+' ? c : '';
}

function findClose(source: string, open: number, openCh: string, closeCh: string, end: number): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === openCh) depth++;
    else if (c === closeCh && --depth === 0) return i;
  }
  throw new PatternError(source, `unclosed "${openCh}" at ${open}`);
}

/** The captured values of a match: by `$n` (1-based) and by name. Missing optional groups are ''. */
export interface PatternMatch {
  groups: string[];
  named: Map<string, string>;
}

export function matchPattern(pattern: CompiledPattern, path: string): PatternMatch | null {
  // `/:path*` matches nothing at all, and that includes the root path `/`.
  const m = pattern.regex.exec(path) ?? (path === '/' ? pattern.regex.exec('') : null);
  if (!m) return null;
  const groups: string[] = [];
  const named = new Map<string, string>();
  for (let k = 0; k < pattern.names.length; k++) {
    const value = m[k + 1] ?? '';
    groups.push(value);
    const name = pattern.names[k];
    if (name) named.set(name, value);
  }
  return { groups, named };
}

/**
 * Fills `:name` and `$n` in a destination (or header value) with a match's values.
 * `encode` is applied to each value: URL-encoding for a redirect's Location, identity for a
 * rewrite that is resolved against the deployment's files.
 */
export function substitute(template: string, match: PatternMatch, encode: (value: string) => string): string {
  return template.replace(/\$(\d+)|:([A-Za-z0-9_]+)(?:[*+])?/g, (whole, index: string | undefined, name: string | undefined) => {
    if (index !== undefined) {
      const value = match.groups[Number(index) - 1];
      return value === undefined ? whole : encode(value);
    }
    const value = match.named.get(name!);
    return value === undefined ? whole : encode(value);
  });
}

/** URL-encodes each segment of a value, keeping its slashes (a `:path*` value spans segments). */
export const encodePathValue = (value: string): string => value.split('/').map(encodeURIComponent).join('/');
