import { randomBytes } from 'node:crypto';
import type { AcmeIssuer, CertificateStore } from '@platform/certificates';
import type { Logger } from '@platform/logger';
import type { ProjectsRepo } from '../projects/projects-repo.ts';
import { PeriodicWorker } from '../workers/periodic-worker.ts';
import type { DnsVerifier } from './dns-verifier.ts';
import type { DomainRecords } from './domain-records.ts';
import type { DomainOutcome, DomainRow, DomainsRepo } from './domains-repo.ts';

export interface CertificatesWorkerOptions {
  /** Time between passes. Default 30 s. */
  intervalMs?: number;
  /** First retry after a failed DNS check or order; doubled each time. Default 60 s. */
  retryBaseMs?: number;
  /** The longest wait between retries. Default 6 h. */
  retryMaxMs?: number;
  /** How long a replica holds a domain it works on. Default 5 min. */
  leaseMs?: number;
}

export interface CertificatesWorkerDeps {
  domains: DomainsRepo;
  projects: Pick<ProjectsRepo, 'get'>;
  verifier: DnsVerifier;
  issuer: AcmeIssuer;
  certificates: CertificateStore;
  records: DomainRecords;
  logger: Logger;
  /** A renewal failed while the current certificate keeps being served (the notification event). */
  onRenewalFailed: (row: DomainRow, reason: string) => Promise<void>;
}

/** Two thirds into the certificate's lifetime, as Let's Encrypt advises. */
export const renewalTime = (notBefore: Date, notAfter: Date): Date => new Date(notBefore.getTime() + ((notAfter.getTime() - notBefore.getTime()) * 2) / 3);

/**
 * Proves and certifies custom domains: a pending domain is checked in DNS, a proved one gets a
 * certificate over ACME, an active one is renewed two thirds into its lifetime. Each replica
 * claims a due domain under a lease in the database, so one order runs per domain whatever
 * the number of replicas. Failures back off exponentially; a failed renewal leaves the working
 * certificate in place (it shows on the domain and as a notification) and is retried well
 * before that certificate expires.
 */
export class CertificatesWorker {
  private readonly worker: PeriodicWorker;
  private readonly owner = `certs-${process.pid.toString(36)}-${randomBytes(4).toString('hex')}`;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly leaseMs: number;

  constructor(
    private readonly deps: CertificatesWorkerDeps,
    options: CertificatesWorkerOptions = {},
  ) {
    this.retryBaseMs = options.retryBaseMs ?? 60_000;
    this.retryMaxMs = options.retryMaxMs ?? 6 * 3_600_000;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.worker = new PeriodicWorker({
      intervalMs: options.intervalMs ?? 30_000,
      pass: () => this.pass(),
      logger: deps.logger,
      failureMessage: 'certificates pass failed',
    });
  }

  start(): void {
    this.worker.start();
  }

  stop(): Promise<void> {
    return this.worker.stop();
  }

  kick(): void {
    this.worker.kick();
  }

  /** One pass: every due domain this replica can claim, one at a time. */
  async pass(): Promise<void> {
    for (let i = 0; i < 100 && !this.worker.stopped; i++) {
      const row = await this.deps.domains.claimDue(this.owner, this.leaseMs);
      if (!row) return;
      await this.work(row);
    }
  }

  private async work(row: DomainRow): Promise<void> {
    const { domains, projects, records, logger } = this.deps;
    const project = await projects.get(row.project_id);
    if (!project) return void (await this.finish(row, { ...this.retry(row), status: row.status, statusReason: row.status_reason }));
    const renewing = row.cert_not_after !== null && row.cert_not_after.getTime() > Date.now();
    if (!renewing) {
      const proof = await this.deps.verifier.prove(row.hostname, row.verification_token);
      if (!proof.ok) return void (await this.finish(row, { ...this.retry(row), status: 'pending', statusReason: proof.detail }));
      await domains.markStatus(row.hostname, this.owner, 'verified', proof.detail);
      // Proved: the proxy serves it over HTTP now, and answers the CA's HTTP-01 challenge.
      await records.publish(row, project.slug, false);
      await domains.markStatus(row.hostname, this.owner, 'issuing', null);
    }
    try {
      const issued = await this.deps.issuer.issue(row.hostname);
      const stored = await this.deps.certificates.put(row.hostname, issued.certPem, issued.keyPem);
      await records.publish(row, project.slug, true);
      const renewAfter = renewalTime(stored.notBefore, stored.notAfter);
      logger.info({ hostname: row.hostname, notAfter: stored.notAfter, renewAfter, renewal: renewing }, 'certificate issued');
      await this.finish(row, {
        status: 'active',
        statusReason: null,
        attempts: 0,
        nextAttemptAt: renewAfter,
        renewalError: null,
        certificate: { notBefore: stored.notBefore, notAfter: stored.notAfter, renewAfter },
      });
    } catch (err) {
      const reason = (err as Error).message;
      logger.warn({ hostname: row.hostname, reason, renewal: renewing }, 'certificate order failed');
      if (!renewing) return void (await this.finish(row, { ...this.retry(row), status: 'failed', statusReason: reason }));
      // The working certificate stays in place and keeps being served; retried before it expires.
      await this.finish(row, { ...this.retry(row, row.cert_not_after!), status: 'active', statusReason: null, renewalError: reason });
      await this.deps.onRenewalFailed(row, reason).catch((e: unknown) => logger.error({ err: e }, 'renewal-failure notification failed'));
    }
  }

  /** The next attempt: doubling from the base, capped, and for a renewal at most a quarter of the time left. */
  private retry(row: DomainRow, expires?: Date): { attempts: number; nextAttemptAt: Date } {
    let wait = Math.min(this.retryBaseMs * 2 ** Math.min(row.attempts, 20), this.retryMaxMs);
    if (expires) wait = Math.max(1_000, Math.min(wait, (expires.getTime() - Date.now()) / 4));
    return { attempts: row.attempts + 1, nextAttemptAt: new Date(Date.now() + wait) };
  }

  /** Records the outcome; a domain removed meanwhile has its record taken down again. */
  private async finish(row: DomainRow, outcome: DomainOutcome): Promise<void> {
    const done = await this.deps.domains.finish(row.hostname, this.owner, outcome);
    if (!done) {
      const current = await this.deps.domains.get(row.project_id, row.hostname);
      if (!current) await this.deps.records.unpublish(row.hostname);
    }
  }
}
