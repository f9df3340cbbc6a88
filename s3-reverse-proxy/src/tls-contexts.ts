import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateStore } from '@platform/certificates';
import type { Logger } from '@platform/logger';
import { parseHost } from './host.ts';
import { withTimeout } from './storage-timeout.ts';

interface Entry {
  context: SecureContext | null;
  serial: string | null;
  /** After this the certificate is read again (in the background: the handshake uses this entry). */
  refreshAt: number;
}

export interface TlsContextsOptions {
  /** How often a host's certificate is read again: a renewal is served after at most this. */
  refreshMs: number;
  storageTimeoutMs: number;
  rootDomain: string;
  /** The operator's certificate for `*.ROOT_DOMAIN` (TLS_CERT_FILE/TLS_KEY_FILE), and for names without one. */
  fallback?: { certPem: string; keyPem: string };
  logger: Logger;
}

/**
 * The HTTPS server's SNI: one secure context per custom domain, built from its certificate in
 * the object store (shared by every replica), cached, and rebuilt only when a renewal changed
 * its serial. A handshake never waits on storage for a host it has seen: a stale entry serves
 * while it is refreshed. Names under ROOT_DOMAIN get the operator's certificate.
 */
export class TlsContexts {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();
  private readonly fallback: SecureContext | null;

  constructor(
    private readonly certs: CertificateStore,
    private readonly options: TlsContextsOptions,
  ) {
    this.fallback = options.fallback ? createSecureContext({ cert: options.fallback.certPem, key: options.fallback.keyPem }) : null;
  }

  /** `SNICallback` of the HTTPS server. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const host = parseHost(servername);
    const root = this.options.rootDomain;
    if (host === null || host === root || host.endsWith(`.${root}`)) return this.answer(cb, null);
    const entry = this.entries.get(host);
    if (entry !== undefined) {
      if (entry.refreshAt <= Date.now()) {
        entry.refreshAt = Number.POSITIVE_INFINITY; // one background read at a time
        void this.load(host, entry).catch(() => {
          entry.refreshAt = Date.now() + this.options.refreshMs;
        });
      }
      return this.answer(cb, entry.context);
    }
    this.load(host, undefined).then(
      (loaded) => this.answer(cb, loaded.context),
      (err: unknown) => {
        this.options.logger.warn({ err, host }, 'reading a certificate failed');
        this.answer(cb, null);
      },
    );
  };

  private answer(cb: (err: Error | null, ctx?: SecureContext) => void, context: SecureContext | null): void {
    const chosen = context ?? this.fallback;
    if (chosen === null) cb(new Error('no certificate for this name'));
    else cb(null, chosen);
  }

  private load(host: string, previous: Entry | undefined): Promise<Entry> {
    const pending = this.inflight.get(host);
    if (pending) return pending;
    const promise = (async () => {
      const cert = await withTimeout(this.certs.get(host), this.options.storageTimeoutMs, 'a certificate');
      const serial = cert?.serial ?? null;
      const context =
        previous !== undefined && previous.serial === serial ? previous.context : cert ? createSecureContext({ cert: cert.certPem, key: cert.keyPem }) : null;
      const entry: Entry = { context, serial, refreshAt: Date.now() + this.options.refreshMs };
      if (!this.entries.has(host) && this.entries.size >= 10_000) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(host, entry);
      return entry;
    })().finally(() => this.inflight.delete(host));
    this.inflight.set(host, promise);
    return promise;
  }
}
