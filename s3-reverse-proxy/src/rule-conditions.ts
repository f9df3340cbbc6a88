/**
 * `has` / `missing` conditions of a routing rule (`vercel.json`, or a Netlify query match):
 * compiled once per deployment, checked per request. A rule with conditions makes its answer
 * depend on more than the path, so `Site` never memoizes a path such a rule's pattern matched.
 *
 * Semantics as Vercel documents them (and Next.js implements `has`): a `value` is a regular
 * expression that must match the whole value; its named groups, or the value itself when the
 * condition has no `value`, can be used as `:name` in the destination.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RuleCondition } from '@platform/contracts';

/** What a condition may look at, besides the path. */
export interface RequestFacts {
  /** Lower-case hostname, without the port. */
  host: string;
  /** The raw query string, without `?`. */
  query: string;
  headers: IncomingHttpHeaders;
}

interface CompiledCondition {
  type: RuleCondition['type'];
  /** Header names lower-cased; cookie and query names as written. */
  key: string;
  value: RegExp | null;
  /** The name a value without `value` is captured under: the key's letters and digits. */
  captureAs: string | null;
}

export interface CompiledConditions {
  has: CompiledCondition[];
  missing: CompiledCondition[];
}

export class ConditionError extends Error {}

function compileOne(condition: RuleCondition): CompiledCondition {
  if (condition.type !== 'host' && !condition.key) throw new ConditionError(`a "${condition.type}" condition needs a "key"`);
  let value: RegExp | null = null;
  if (condition.value !== undefined) {
    try {
      value = new RegExp(`^(?:${condition.value})$`);
    } catch (err) {
      throw new ConditionError(`condition value ${JSON.stringify(condition.value)} is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  const key = condition.type === 'header' ? (condition.key ?? '').toLowerCase() : (condition.key ?? '');
  const safe = key.replace(/[^A-Za-z0-9]/g, '');
  return { type: condition.type, key, value, captureAs: condition.value === undefined && safe ? safe : null };
}

/** Null when the rule has none: the common case costs nothing per request. */
export function compileConditions(rule: { has?: RuleCondition[]; missing?: RuleCondition[] }): CompiledConditions | null {
  const has = (rule.has ?? []).map(compileOne);
  const missing = (rule.missing ?? []).map(compileOne);
  return has.length === 0 && missing.length === 0 ? null : { has, missing };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

function queryValue(query: string, name: string): string | undefined {
  if (!query) return undefined;
  return new URLSearchParams(query).get(name) ?? undefined;
}

function requestValue(condition: CompiledCondition, facts: RequestFacts): string | undefined {
  switch (condition.type) {
    case 'host':
      return facts.host;
    case 'header': {
      const v = facts.headers[condition.key];
      return Array.isArray(v) ? v.join(', ') : v;
    }
    case 'cookie': {
      const header = facts.headers.cookie;
      return cookieValue(Array.isArray(header) ? header.join('; ') : header, condition.key);
    }
    case 'query':
      return queryValue(facts.query, condition.key);
  }
}

/** Whether `condition` holds; its captures are added to `captures` when it does. */
function holds(condition: CompiledCondition, facts: RequestFacts, captures: Map<string, string>): boolean {
  const value = requestValue(condition, facts);
  if (value === undefined) return false;
  if (!condition.value) {
    if (condition.captureAs) captures.set(condition.captureAs, value);
    return true;
  }
  const m = condition.value.exec(value);
  if (!m) return false;
  for (const [name, v] of Object.entries(m.groups ?? {})) if (v !== undefined) captures.set(name, v);
  return true;
}

/** One thing conditions read: a header, cookie or query parameter by name, or the host. */
export interface ConditionInput {
  type: RuleCondition['type'];
  key: string;
}

/** Every distinct input the given conditions read, for a memo key. */
export function conditionInputs(all: readonly (CompiledConditions | null)[]): ConditionInput[] {
  const seen = new Map<string, ConditionInput>();
  for (const conditions of all) {
    for (const c of [...(conditions?.has ?? []), ...(conditions?.missing ?? [])]) seen.set(`${c.type}\0${c.key}`, { type: c.type, key: c.key });
  }
  return [...seen.values()];
}

/**
 * What a request shows of `inputs`, as one string: two requests with the same one resolve the
 * same way, since conditions read nothing else. Null when too long to be worth remembering.
 */
export function conditionInputsKey(inputs: readonly ConditionInput[], facts: RequestFacts, maxLength: number): string | null {
  let key = '';
  for (const input of inputs) {
    const value = requestValue({ type: input.type, key: input.key, value: null, captureAs: null }, facts);
    key += value === undefined ? '\u0001' : `\u0000${value}`;
    if (key.length > maxLength) return null;
  }
  return key;
}

/** The captures to substitute when every `has` holds and no `missing` does; null otherwise. */
export function checkConditions(conditions: CompiledConditions, facts: RequestFacts): Map<string, string> | null {
  const captures = new Map<string, string>();
  for (const c of conditions.has) if (!holds(c, facts, captures)) return null;
  const ignored = new Map<string, string>();
  for (const c of conditions.missing) if (holds(c, facts, ignored)) return null;
  return captures;
}
