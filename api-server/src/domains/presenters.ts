import type { Domain } from '@platform/contracts';
import { txtRecordName, txtRecordValue } from './dns-verifier.ts';
import type { DomainRow } from './domains-repo.ts';

const iso = (d: Date | string) => new Date(d).toISOString();

/** A domain as its owner sees it: the records to create, where it stands, why. */
export const presentDomain = (row: DomainRow, cnameTarget: string): Domain => ({
  hostname: row.hostname,
  projectId: row.project_id,
  branch: row.branch,
  redirectTo: row.redirect_to,
  hsts: row.hsts,
  status: row.status,
  statusReason: row.status_reason,
  dnsRecords: [
    { type: 'TXT', name: txtRecordName(row.hostname), value: txtRecordValue(row.verification_token) },
    { type: 'CNAME', name: row.hostname, value: cnameTarget },
  ],
  certificate:
    row.cert_not_before && row.cert_not_after && row.renew_after
      ? { notBefore: iso(row.cert_not_before), notAfter: iso(row.cert_not_after), renewAfter: iso(row.renew_after) }
      : null,
  renewalError: row.renewal_error,
  createdAt: iso(row.created_at),
});
