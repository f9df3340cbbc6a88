/** Conditional requests, ranges and content negotiation: the small parsers the proxy needs, without allocating on common inputs. */

/** `If-None-Match` against a strong ETag: `*`, a list, and weak forms all count (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(header: string, etag: string): boolean {
  if (header === etag || header === '*') return true;
  if (header.length < 2) return false;
  for (const part of header.split(',')) {
    let tag = part.trim();
    if (tag.startsWith('W/')) tag = tag.slice(2);
    if (tag === etag || tag === '*') return true;
  }
  return false;
}

export type RangeRequest = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * One `bytes=` range against a body of `size` bytes: `a-b`, `a-` or `-n`. Null means "serve the
 * whole body": no range, a malformed one, another unit, or several ranges (allowed by
 * RFC 9110 §14.2: a server may ignore Range). 'unsatisfiable' is a 416.
 */
export function parseRange(header: string, size: number): RangeRequest {
  const m = /^bytes=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i.exec(header);
  if (!m) return null;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Math.max(start, size - 1) : Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** How much a client wants each precompressed encoding (a q-value; 0 = not acceptable). */
export interface EncodingPreference {
  br: number;
  gzip: number;
}

const IDENTITY_ONLY: EncodingPreference = Object.freeze({ br: 0, gzip: 0 });
const preferenceMemo = new Map<string, EncodingPreference>();

/** Parses `Accept-Encoding`; browsers send a handful of distinct values, so results are memoised (bounded). */
export function encodingPreference(header: string | undefined): EncodingPreference {
  if (header === undefined || header === '') return IDENTITY_ONLY;
  let pref = preferenceMemo.get(header);
  if (pref === undefined) {
    pref = parseAcceptEncoding(header);
    if (preferenceMemo.size >= 1_000) preferenceMemo.clear();
    preferenceMemo.set(header, pref);
  }
  return pref;
}

function parseAcceptEncoding(header: string): EncodingPreference {
  let br: number | undefined;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const part of header.slice(0, 1024).split(',')) {
    const [rawName = '', ...params] = part.split(';');
    const name = rawName.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(param);
      if (m) q = Math.min(1, Number(m[1]));
    }
    if (name === 'br') br = q;
    else if (name === 'gzip' || name === 'x-gzip') gzip = q;
    else if (name === '*') star = q;
  }
  return Object.freeze({ br: br ?? star ?? 0, gzip: gzip ?? star ?? 0 });
}
