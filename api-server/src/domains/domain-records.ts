import { domainRecordKey, type DomainRecord } from '@platform/contracts';
import type { CertificateStore } from '@platform/certificates';
import type { ObjectStore } from '@platform/object-store';
import type { Urls } from '../urls.ts';
import type { DomainRow } from './domains-repo.ts';

/**
 * Writes `domains/<hostname>.json`, what the proxy knows of a custom domain: the platform
 * hostname it serves (the project's production or branch alias), its redirect, HTTPS and HSTS.
 */
export class DomainRecords {
  constructor(private readonly deps: { store: ObjectStore; certificates: CertificateStore | null; urls: Urls }) {}

  async publish(row: DomainRow, projectSlug: string, https: boolean): Promise<void> {
    const { urls } = this.deps;
    const record: DomainRecord = {
      projectId: row.project_id,
      serves: row.branch === null ? urls.productionHost(projectSlug) : urls.branchHost(projectSlug, row.branch),
      redirectTo: row.redirect_to,
      https,
      hsts: row.hsts,
      updatedAt: new Date().toISOString(),
    };
    await this.deps.store.put(domainRecordKey(row.hostname), JSON.stringify(record), { contentType: 'application/json', cacheControl: 'no-store' });
  }

  /** The proxy stops serving the name, and its certificate goes. */
  async unpublish(hostname: string): Promise<void> {
    await this.deps.store.delete([domainRecordKey(hostname)]);
    await this.deps.certificates?.delete(hostname);
  }
}
