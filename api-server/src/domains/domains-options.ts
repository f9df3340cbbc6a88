import type { AcmeIssuerOptions } from '@platform/certificates';
import type { CertificatesWorkerOptions } from './certificates-worker.ts';

/** Custom domains and their certificates; absent: adding a domain answers 409 domains_disabled. */
export interface DomainsOptions {
  /** CERTIFICATE_STORE_KEY: seals private keys in the object store; the proxy holds the same key. */
  certificateStoreKey: Buffer;
  acme: AcmeIssuerOptions;
  /** DOMAIN_DNS_RESOLVER: host:port of the resolvers proving domains; empty: the system's. */
  dnsServers: readonly string[];
  /** DOMAIN_CNAME_TARGET: the platform hostname a CNAME may point at instead of the TXT record. */
  cnameTarget: string;
  worker?: CertificatesWorkerOptions;
}
