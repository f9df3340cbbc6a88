import { randomId } from '@platform/contracts';
import { AcmeIssuer, CertificateStore, Sealer } from '@platform/certificates';
import type { Db } from '@platform/db';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import type { NotificationsRepo } from '../notifications/notifications-repo.ts';
import type { ProjectsRepo } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import { CertificatesWorker } from './certificates-worker.ts';
import { DnsVerifier } from './dns-verifier.ts';
import { DomainRecords } from './domain-records.ts';
import type { DomainsOptions } from './domains-options.ts';
import { DomainsRepo } from './domains-repo.ts';
import { DomainsService } from './domains-service.ts';
import { presentDomain } from './presenters.ts';

export interface DomainsParts {
  repo: DomainsRepo;
  service: DomainsService;
  /** Null when custom domains are not configured. */
  worker: CertificatesWorker | null;
  cnameTarget: string;
}

/** The domains feature wired once: repository, proxy records, certificate store, ACME issuer, worker. */
export function composeDomains(
  deps: { db: Db; store: ObjectStore; projects: ProjectsRepo; notifications: NotificationsRepo; urls: Urls; rootDomain: string; logger: Logger },
  options: DomainsOptions | undefined,
): DomainsParts {
  const repo = new DomainsRepo(deps.db);
  const cnameTarget = options?.cnameTarget ?? `cname.${deps.rootDomain}`;
  const sealer = options ? new Sealer(options.certificateStoreKey) : null;
  const certificates = sealer ? new CertificateStore(deps.store, sealer) : null;
  const records = new DomainRecords({ store: deps.store, certificates, urls: deps.urls });
  const logger = deps.logger.child({ component: 'certificates' });
  const worker =
    options && sealer && certificates
      ? new CertificatesWorker(
          {
            domains: repo,
            projects: deps.projects,
            verifier: new DnsVerifier(options.dnsServers, cnameTarget),
            issuer: new AcmeIssuer(deps.store, sealer, options.acme),
            certificates,
            records,
            logger,
            onRenewalFailed: async (row, reason) => {
              const payload = {
                id: `evt_${randomId(16)}`,
                type: 'domain.renewal_failed',
                createdAt: new Date().toISOString(),
                projectId: row.project_id,
                domain: { ...presentDomain(row, cnameTarget), renewalError: reason },
              };
              await deps.notifications.enqueue(row.project_id, 'domain.renewal_failed', JSON.stringify(payload));
            },
          },
          options.worker,
        )
      : null;
  const service = new DomainsService({ domains: repo, records, wake: () => worker?.kick(), rootDomain: deps.rootDomain, enabled: worker !== null });
  return { repo, service, worker, cnameTarget };
}
