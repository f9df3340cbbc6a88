import type { TLSSocket } from 'node:tls';
import { domainRecordKey, domainRecordSchema, type DomainRecord } from '@platform/contracts';
import { ACME_TOKEN, challengeKey } from '@platform/certificates';
import type { ObjectStore } from '@platform/object-store';
import type { Exchange } from './exchange.ts';
import { PAGES } from './pages.ts';
import { withTimeout } from './storage-timeout.ts';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
/** Two years, the value browsers' preload lists ask for. */
const HSTS = 'max-age=63072000';

interface Cached {
  value: DomainRecord | null;
  expiresAt: number;
}

export interface CustomDomainsOptions {
  /** A domain record is trusted this long (the route TTL): a new certificate or redirect is live after at most this. */
  ttlMs: number;
  storageTimeoutMs: number;
  /** The port HTTPS is offered on, for HTTP→HTTPS redirects; 443 leaves it out of the Location. */
  httpsPort: number | null;
}

/**
 * Custom domains (names outside ROOT_DOMAIN), decided from `domains/<host>.json` records in
 * the object store, never a database: ACME HTTP-01 answers, the www↔apex redirect, HTTP→HTTPS
 * once a certificate is active, HSTS, and otherwise which platform hostname's route to serve.
 * Records are cached for `ttlMs`; when storage fails the last known record keeps serving.
 */
export class CustomDomains {
  private readonly records = new Map<string, Cached>();

  constructor(
    private readonly store: ObjectStore,
    private readonly options: CustomDomainsOptions,
  ) {}

  /**
   * The record whose `serves` hostname answers this request, or null when it is answered here
   * already, or undefined when the record must be read first (`decideLater`).
   */
  decide(ex: Exchange): DomainRecord | null | undefined {
    if (ex.rawPath.startsWith(CHALLENGE_PREFIX)) return undefined;
    const hit = this.records.get(ex.host);
    if (hit === undefined || hit.expiresAt <= Date.now()) return undefined;
    return this.apply(ex, hit.value);
  }

  async decideLater(ex: Exchange): Promise<DomainRecord | null> {
    if (ex.rawPath.startsWith(CHALLENGE_PREFIX)) {
      await this.answerChallenge(ex, ex.rawPath.slice(CHALLENGE_PREFIX.length));
      return null;
    }
    return this.apply(ex, await this.record(ex.host));
  }

  private apply(ex: Exchange, record: DomainRecord | null): DomainRecord | null {
    if (record === null) {
      ex.sendPage(PAGES.unknownHost);
      return null;
    }
    const secure = (ex.req.socket as TLSSocket).encrypted === true;
    const suffix = ex.query === '' ? ex.rawPath : `${ex.rawPath}?${ex.query}`;
    if (record.redirectTo !== null) {
      this.redirect(ex, `${secure ? 'https' : 'http'}://${record.redirectTo}${secure ? this.httpsPortSuffix() : this.requestPortSuffix(ex)}${suffix}`);
      return null;
    }
    if (!secure && record.https && this.options.httpsPort !== null) {
      this.redirect(ex, `https://${ex.host}${this.httpsPortSuffix()}${suffix}`);
      return null;
    }
    if (secure && record.hsts) ex.res.setHeader('Strict-Transport-Security', HSTS);
    return record;
  }

  private redirect(ex: Exchange, location: string): void {
    ex.send(308, ['Location', location, 'Content-Length', '0', 'Cache-Control', 'no-cache'], undefined, 'NONE');
  }

  private httpsPortSuffix(): string {
    const port = this.options.httpsPort;
    return port === null || port === 443 ? '' : `:${port}`;
  }

  private requestPortSuffix(ex: Exchange): string {
    const port = /:(\d+)$/.exec(ex.req.headers.host ?? '');
    return port ? `:${port[1]}` : '';
  }

  /** The key authorization the ACME client published for this host and token; 404 otherwise. */
  private async answerChallenge(ex: Exchange, token: string): Promise<void> {
    const answer = ACME_TOKEN.test(token)
      ? await withTimeout(this.store.getBuffer(challengeKey(ex.host, token)), this.options.storageTimeoutMs, 'an ACME challenge')
      : null;
    if (answer === null) return ex.sendPage(PAGES.notFound);
    ex.send(200, ['Content-Type', 'text/plain', 'Content-Length', String(answer.length), 'Cache-Control', 'no-store'], ex.head ? undefined : answer, 'NONE');
  }

  private async record(host: string): Promise<DomainRecord | null> {
    const hit = this.records.get(host);
    try {
      const raw = await withTimeout(this.store.getBuffer(domainRecordKey(host)), this.options.storageTimeoutMs, 'a domain record');
      const value = raw ? parseRecord(raw) : null;
      this.remember(host, value);
      return value;
    } catch (err) {
      if (hit === undefined) throw err;
      // Storage is failing: keep serving what this host served, and retry after a TTL.
      this.remember(host, hit.value);
      return hit.value;
    }
  }

  private remember(host: string, value: DomainRecord | null): void {
    if (!this.records.has(host) && this.records.size >= 50_000) this.records.delete(this.records.keys().next().value!);
    this.records.set(host, { value, expiresAt: Date.now() + this.options.ttlMs });
  }
}

function parseRecord(raw: Buffer): DomainRecord | null {
  try {
    const parsed = domainRecordSchema.safeParse(JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
