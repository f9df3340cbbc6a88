import type { DomainStatus } from '@platform/contracts';
import type { Db } from '@platform/db';

export interface DomainRow {
  hostname: string;
  project_id: string;
  branch: string | null;
  redirect_to: string | null;
  hsts: boolean;
  status: DomainStatus;
  status_reason: string | null;
  verification_token: string;
  cert_not_before: Date | null;
  cert_not_after: Date | null;
  renew_after: Date | null;
  renewal_error: string | null;
  attempts: number;
  next_attempt_at: Date;
  lease_owner: string | null;
  lease_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface NewDomain {
  hostname: string;
  projectId: string;
  branch: string | null;
  redirectTo: string | null;
  hsts: boolean;
  verificationToken: string;
}

/** What a pass of the certificates worker concluded about a domain. */
export interface DomainOutcome {
  status: DomainStatus;
  statusReason: string | null;
  attempts: number;
  nextAttemptAt: Date;
  renewalError?: string | null;
  certificate?: { notBefore: Date; notAfter: Date; renewAfter: Date };
}

/** Every statement on the `domains` table. */
export class DomainsRepo {
  constructor(private readonly db: Db) {}

  /** Null when the hostname is already claimed (by this project or another). */
  async create(d: NewDomain): Promise<DomainRow | null> {
    const rows = await this.db.query<DomainRow>(
      `INSERT INTO domains (hostname, project_id, branch, redirect_to, hsts, verification_token)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hostname) DO NOTHING RETURNING *`,
      [d.hostname, d.projectId, d.branch, d.redirectTo, d.hsts, d.verificationToken],
    );
    return rows[0] ?? null;
  }

  list(projectId: string): Promise<DomainRow[]> {
    return this.db.query<DomainRow>('SELECT * FROM domains WHERE project_id = $1 ORDER BY created_at, hostname', [projectId]);
  }

  /** Only the project's own: another project's domain is not found. */
  async get(projectId: string, hostname: string): Promise<DomainRow | null> {
    return (await this.db.query<DomainRow>('SELECT * FROM domains WHERE project_id = $1 AND hostname = $2', [projectId, hostname]))[0] ?? null;
  }

  async delete(projectId: string, hostname: string): Promise<DomainRow | null> {
    return (await this.db.query<DomainRow>('DELETE FROM domains WHERE project_id = $1 AND hostname = $2 RETURNING *', [projectId, hostname]))[0] ?? null;
  }

  /** Makes the domain due now (a retry); a failed one starts over from the DNS check. */
  async retryNow(projectId: string, hostname: string): Promise<DomainRow | null> {
    const rows = await this.db.query<DomainRow>(
      `UPDATE domains SET next_attempt_at = now(), attempts = 0, updated_at = now(),
         status = CASE WHEN status = 'failed' THEN 'pending' ELSE status END
       WHERE project_id = $1 AND hostname = $2 RETURNING *`,
      [projectId, hostname],
    );
    return rows[0] ?? null;
  }

  /**
   * Claims the most overdue domain nobody holds, for `leaseMs`: one statement, so two replicas
   * never claim the same one, and a replica that died lets go when its lease runs out.
   */
  async claimDue(owner: string, leaseMs: number): Promise<DomainRow | null> {
    const rows = await this.db.query<DomainRow>(
      `UPDATE domains SET lease_owner = $1, lease_until = now() + ($2::integer * interval '1 millisecond')
       WHERE hostname = (
         SELECT hostname FROM domains
         WHERE next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
         ORDER BY next_attempt_at, hostname LIMIT 1 FOR UPDATE SKIP LOCKED
       ) AND (lease_until IS NULL OR lease_until < now())
       RETURNING *`,
      [owner, leaseMs],
    );
    return rows[0] ?? null;
  }

  /** A step along the way (verified, issuing), still under this owner's lease. */
  async markStatus(hostname: string, owner: string, status: DomainStatus, reason: string | null): Promise<void> {
    await this.db.query('UPDATE domains SET status = $3, status_reason = $4, updated_at = now() WHERE hostname = $1 AND lease_owner = $2', [
      hostname,
      owner,
      status,
      reason,
    ]);
  }

  /** Records the outcome and lets go of the lease; null when the lease was lost (or the domain removed). */
  async finish(hostname: string, owner: string, o: DomainOutcome): Promise<DomainRow | null> {
    const rows = await this.db.query<DomainRow>(
      `UPDATE domains SET status = $3, status_reason = $4, attempts = $5, next_attempt_at = $6,
         renewal_error = CASE WHEN $7::boolean THEN $8 ELSE renewal_error END,
         cert_not_before = COALESCE($9, cert_not_before), cert_not_after = COALESCE($10, cert_not_after),
         renew_after = COALESCE($11, renew_after),
         lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE hostname = $1 AND lease_owner = $2 RETURNING *`,
      [
        hostname,
        owner,
        o.status,
        o.statusReason,
        o.attempts,
        o.nextAttemptAt,
        o.renewalError !== undefined,
        o.renewalError ?? null,
        o.certificate?.notBefore ?? null,
        o.certificate?.notAfter ?? null,
        o.certificate?.renewAfter ?? null,
      ],
    );
    return rows[0] ?? null;
  }

  /** The hostnames of a project (a redirect must name one of them). */
  async hostnames(projectId: string): Promise<string[]> {
    return (await this.db.query<{ hostname: string }>('SELECT hostname FROM domains WHERE project_id = $1', [projectId])).map((r) => r.hostname);
  }
}
