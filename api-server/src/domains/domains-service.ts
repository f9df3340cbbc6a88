import { randomBytes } from 'node:crypto';
import type { CreateDomainBody } from '@platform/contracts';
import type { DomainRecords } from './domain-records.ts';
import type { DomainRow, DomainsRepo } from './domains-repo.ts';
import { DomainNotFound, DomainRefused, DomainsDisabled, DomainTaken, RedirectTargetUnknown } from './errors.ts';

export interface DomainsServiceDeps {
  domains: DomainsRepo;
  records: DomainRecords;
  /** Wakes the certificates worker: a new or retried domain is checked at once. */
  wake: () => void;
  /** `*.ROOT_DOMAIN` is the platform's own: no project claims a name under it. */
  rootDomain: string;
  /** False when the platform has no certificate store (CERTIFICATE_STORE_KEY unset). */
  enabled: boolean;
}

/** A project's custom domains: add, list, show, retry, remove. The worker proves and certifies them. */
export class DomainsService {
  constructor(private readonly deps: DomainsServiceDeps) {}

  async add(projectId: string, body: CreateDomainBody): Promise<DomainRow> {
    const { domains, rootDomain } = this.deps;
    if (!this.deps.enabled) throw new DomainsDisabled();
    for (const name of [body.hostname, body.redirectTo]) {
      if (name !== null && (name === rootDomain || name.endsWith(`.${rootDomain}`))) {
        throw new DomainRefused(`${name} is under the platform's own domain ${rootDomain}: projects are served there already, add a domain of your own`);
      }
    }
    if (body.redirectTo !== null && (body.redirectTo === body.hostname || !(await domains.hostnames(projectId)).includes(body.redirectTo))) {
      throw new RedirectTargetUnknown(body.hostname, body.redirectTo);
    }
    const row = await domains.create({ ...body, projectId, verificationToken: randomBytes(16).toString('hex') });
    if (!row) throw new DomainTaken(body.hostname);
    this.deps.wake();
    return row;
  }

  list(projectId: string): Promise<DomainRow[]> {
    return this.deps.domains.list(projectId);
  }

  async get(projectId: string, hostname: string): Promise<DomainRow> {
    const row = await this.deps.domains.get(projectId, hostname);
    if (!row) throw new DomainNotFound();
    return row;
  }

  /** Checks DNS (and orders a certificate) again now, whatever the backoff said. */
  async retry(projectId: string, hostname: string): Promise<DomainRow> {
    const row = await this.deps.domains.retryNow(projectId, hostname);
    if (!row) throw new DomainNotFound();
    this.deps.wake();
    return row;
  }

  /** The row goes first, so the worker cannot publish it again; then the proxy's record and the certificate. */
  async remove(projectId: string, hostname: string): Promise<void> {
    const row = await this.deps.domains.delete(projectId, hostname);
    if (!row) throw new DomainNotFound();
    await this.deps.records.unpublish(hostname);
  }
}
