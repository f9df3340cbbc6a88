import { Agent } from 'node:https';
import * as acme from 'acme-client';
import type { ObjectStore } from '@platform/object-store';
import { z } from 'zod';
import { ACME_ACCOUNT_KEY, challengeKey } from './keys.ts';
import type { Sealer } from './sealing.ts';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export interface AcmeIssuerOptions {
  /** ACME_DIRECTORY_URL. */
  directoryUrl: string;
  /** ACME_EMAIL: the account's contact, where the CA writes about expiring certificates. */
  email?: string;
  /** ACME_CA_BUNDLE's contents: extra roots to trust for the CA's own HTTPS endpoint (a test CA). */
  caBundlePem?: string;
  /** ACME_PROFILE: the CA profile to order (unset: the CA's default). */
  profile?: string;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** The CA refused or a validation failed; `message` is the CA's own words. */
export class AcmeOrderFailed extends Error {
  override name = 'AcmeOrderFailed';
}

const accountSchema = z.object({ directoryUrl: z.string(), sealedKey: z.string(), accountUrl: z.string().optional() });

/**
 * Orders certificates over ACME with HTTP-01: the key authorization is written to the object
 * store, where every proxy replica answers `/.well-known/acme-challenge/<token>` from, so the
 * CA may reach any replica. The account key is created once, sealed in the object store and
 * shared by every api-server replica.
 */
export class AcmeIssuer {
  private client: Promise<acme.Client> | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly sealer: Sealer,
    private readonly options: AcmeIssuerOptions,
  ) {
    // acme-client talks through one axios instance: the CA bundle applies to it, and to no other client.
    if (options.caBundlePem) acme.axios.defaults.httpsAgent = new Agent({ ca: options.caBundlePem });
  }

  /** A new key and a certificate for `host`; `profile` picks a CA profile (a short-lived one in tests). */
  async issue(host: string, options: { profile?: string } = {}): Promise<IssuedCertificate> {
    const profile = options.profile ?? this.options.profile;
    const client = await this.account().catch((err: unknown) => {
      throw new AcmeOrderFailed(`ACME account at ${this.options.directoryUrl}: ${caWords(err)}`);
    });
    const [key, csr] = await acme.crypto.createCsr({ altNames: [host] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const published: string[] = [];
    try {
      const order = await client.createOrder({ identifiers: [{ type: 'dns', value: host }], ...(profile ? { profile } : {}) } as never);
      for (const authz of await client.getAuthorizations(order)) {
        if (authz.status === 'valid') continue;
        const challenge = authz.challenges.find((c) => c.type === 'http-01');
        if (!challenge) throw new AcmeOrderFailed(`the CA offered no http-01 challenge for ${host}`);
        const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
        const objectKey = challengeKey(host, challenge.token);
        await this.store.put(objectKey, keyAuthorization, { contentType: 'text/plain', cacheControl: 'no-store' });
        published.push(objectKey);
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      }
      const finalized = await client.finalizeOrder(order, csr);
      const certPem = await client.getCertificate(finalized);
      return { certPem, keyPem: key.toString() };
    } catch (err) {
      throw err instanceof AcmeOrderFailed ? err : new AcmeOrderFailed(caWords(err));
    } finally {
      if (published.length > 0) await this.store.delete(published).catch(() => {});
    }
  }

  private account(): Promise<acme.Client> {
    this.client ??= this.loadAccount().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private async loadAccount(): Promise<acme.Client> {
    const { directoryUrl, email } = this.options;
    const raw = await this.store.getBuffer(ACME_ACCOUNT_KEY);
    const saved = raw ? accountSchema.safeParse(JSON.parse(raw.toString('utf8'))) : undefined;
    if (saved?.success && saved.data.directoryUrl === directoryUrl) {
      const accountKey = this.sealer.open(saved.data.sealedKey, ACME_ACCOUNT_KEY);
      const client = new acme.Client({ directoryUrl, accountKey, accountUrl: saved.data.accountUrl, backoffAttempts: 5 });
      // An account URL saved by a replica is reused; without one, the key looks its account up.
      if (!saved.data.accountUrl) await client.createAccount({ termsOfServiceAgreed: true, contact: email ? [`mailto:${email}`] : undefined });
      return client;
    }
    const accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    const client = new acme.Client({ directoryUrl, accountKey, backoffAttempts: 5 });
    await client.createAccount({ termsOfServiceAgreed: true, contact: email ? [`mailto:${email}`] : undefined });
    const record = { directoryUrl, sealedKey: this.sealer.seal(accountKey, ACME_ACCOUNT_KEY), accountUrl: client.getAccountUrl() };
    await this.store.put(ACME_ACCOUNT_KEY, JSON.stringify(record), { contentType: 'application/json', cacheControl: 'no-store' });
    return client;
  }
}

/** The CA's problem detail when there is one (acme-client puts it in the message), else the error's message. */
function caWords(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.slice(0, 1_000);
}
