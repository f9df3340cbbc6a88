import { X509Certificate } from 'node:crypto';
import type { ObjectStore } from '@platform/object-store';
import { z } from 'zod';
import { certificateKey } from './keys.ts';
import type { Sealer } from './sealing.ts';

/** A certificate with its private key, as the proxy needs it for a TLS context. */
export interface StoredCertificate {
  /** Leaf first, then the intermediates. */
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  /** Changes on every issuance: the proxy rebuilds a context only when it changed. */
  serial: string;
}

const recordSchema = z.object({
  version: z.literal(1),
  certPem: z.string().min(1),
  sealedKey: z.string().min(1),
  notBefore: z.string(),
  notAfter: z.string(),
  serial: z.string(),
});

/**
 * Certificates by hostname in the object store, the private key sealed (the certificate itself
 * is public). Written by the api-server's certificates worker; read by every proxy replica,
 * so each serves the same certificate without a database. A put replaces the record at once
 * (object-store puts are atomic): a reader sees the old certificate or the new one.
 */
export class CertificateStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly sealer: Sealer,
  ) {}

  async put(host: string, certPem: string, keyPem: string): Promise<StoredCertificate> {
    const leaf = new X509Certificate(certPem);
    const cert: StoredCertificate = {
      certPem,
      keyPem,
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      serial: leaf.serialNumber,
    };
    const record: z.infer<typeof recordSchema> = {
      version: 1,
      certPem,
      sealedKey: this.sealer.seal(keyPem, certificateKey(host)),
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      serial: cert.serial,
    };
    await this.store.put(certificateKey(host), JSON.stringify(record), { contentType: 'application/json', cacheControl: 'no-store' });
    return cert;
  }

  /** Null when the host has none, or its record does not open with this key (tampered, moved). */
  async get(host: string): Promise<StoredCertificate | null> {
    const raw = await this.store.getBuffer(certificateKey(host));
    if (!raw) return null;
    try {
      const record = recordSchema.parse(JSON.parse(raw.toString('utf8')));
      return {
        certPem: record.certPem,
        keyPem: this.sealer.open(record.sealedKey, certificateKey(host)),
        notBefore: new Date(record.notBefore),
        notAfter: new Date(record.notAfter),
        serial: record.serial,
      };
    } catch {
      return null;
    }
  }

  delete(host: string): Promise<void> {
    return this.store.delete([certificateKey(host)]);
  }
}
