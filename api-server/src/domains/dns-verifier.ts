import { Resolver } from 'node:dns/promises';

/** The TXT record's name and value proving a domain; the CNAME target is the alternative. */
export const txtRecordName = (hostname: string): string => `_platform-verification.${hostname}`;
export const txtRecordValue = (token: string): string => `platform-verification=${token}`;

export interface DnsProof {
  ok: boolean;
  /** What DNS said, for the domain's status reason. */
  detail: string;
}

/**
 * Checks that the caller controls a domain's DNS: a TXT record holding the domain's token, or
 * a CNAME pointing at the platform's hostname. Asks the configured resolver (DOMAIN_DNS_RESOLVER),
 * or the system's.
 */
export class DnsVerifier {
  private readonly resolver = new Resolver({ timeout: 3_000, tries: 2 });

  constructor(
    servers: readonly string[],
    private readonly cnameTarget: string,
  ) {
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async prove(hostname: string, token: string): Promise<DnsProof> {
    const expected = txtRecordValue(token);
    const [txt, cname] = await Promise.all([
      this.resolver.resolveTxt(txtRecordName(hostname)).then(
        (records) => ({ records: records.map((chunks) => chunks.join('')), error: null }),
        (err: NodeJS.ErrnoException) => ({ records: [] as string[], error: err.code ?? err.message }),
      ),
      this.resolver.resolveCname(hostname).then(
        (names) => ({ names, error: null }),
        (err: NodeJS.ErrnoException) => ({ names: [] as string[], error: err.code ?? err.message }),
      ),
    ]);
    if (txt.records.includes(expected)) return { ok: true, detail: `TXT ${txtRecordName(hostname)} found` };
    if (cname.names.some((n) => n.toLowerCase().replace(/\.$/, '') === this.cnameTarget)) return { ok: true, detail: `CNAME to ${this.cnameTarget} found` };
    const seen = txt.records.length > 0 ? `it holds ${JSON.stringify(txt.records.slice(0, 3))}` : `DNS answered ${txt.error ?? 'no TXT record'}`;
    return {
      ok: false,
      detail: `waiting for DNS: TXT ${txtRecordName(hostname)} = "${expected}" (${seen}), or a CNAME to ${this.cnameTarget}`,
    };
  }
}
