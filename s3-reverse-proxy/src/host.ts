const HOST_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Host header → hostname: lower-cased, port and trailing dot removed; null when not a valid DNS name. */
export function parseHost(header: string | undefined): string | null {
  if (!header || header.length > 260) return null;
  let host = header.toLowerCase();
  const port = /:(\d{1,5})$/.exec(host);
  if (port) {
    if (Number(port[1]) > 65_535) return null;
    host = host.slice(0, port.index);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host.length <= 253 && HOST_PATTERN.test(host) ? host : null;
}

export type HostKind =
  /** `api.<ROOT_DOMAIN>`: forwarded to the api-server. */
  | { kind: 'api'; name: string }
  /** Worth a route lookup: a single label under the root domain, or any other name (a custom domain). */
  | { kind: 'site'; name: string; custom?: true }
  /** Under the root domain but no deployment can be there (`a.b.<root>`, the root itself). */
  | { kind: 'unknown'; name: string }
  /** Not a DNS name: 400. */
  | { kind: 'invalid' };

const INVALID: HostKind = Object.freeze({ kind: 'invalid' });

/**
 * Classifies Host headers, memoised: the same few headers arrive again and again, and a flood
 * of distinct ones only costs a bounded map.
 */
export class HostClassifier {
  private readonly memo = new Map<string, HostKind>();
  private readonly suffix: string;
  private readonly apiHost: string;

  constructor(private readonly rootDomain: string) {
    this.suffix = `.${rootDomain}`;
    this.apiHost = `api.${rootDomain}`;
  }

  classify(header: string | undefined): HostKind {
    if (header === undefined) return INVALID;
    let kind = this.memo.get(header);
    if (kind === undefined) {
      kind = this.compute(header);
      if (this.memo.size >= 10_000) this.memo.clear();
      this.memo.set(header, kind);
    }
    return kind;
  }

  private compute(header: string): HostKind {
    const name = parseHost(header);
    if (name === null) return INVALID;
    if (name === this.apiHost) return Object.freeze({ kind: 'api', name });
    if (name === this.rootDomain) return Object.freeze({ kind: 'unknown', name });
    if (name.endsWith(this.suffix)) {
      const label = name.slice(0, -this.suffix.length);
      return Object.freeze({ kind: label.includes('.') ? 'unknown' : 'site', name });
    }
    // Outside the root domain: a custom domain (its own record decides what it serves).
    return Object.freeze({ kind: 'site', name, custom: true });
  }
}
