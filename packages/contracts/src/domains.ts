import { z } from 'zod';

// ---- custom domains: the API's schemas and the proxy's record ----------------------------

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why a name cannot be a custom domain, or null when it can: a DNS name of at least two labels,
 * no IP address, no wildcard (each name is proved and certified on its own), at most 253 characters.
 */
export function customDomainProblem(name: string): string | null {
  if (name.length > 253) return `is ${name.length} characters long; a domain name has at most 253`;
  if (name.startsWith('*.') || name.includes('*')) return 'wildcards are not allowed: add each name on its own';
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(name) || name.includes(':') || name.startsWith('[')) return 'is an IP address: add a domain name';
  if (name !== name.toLowerCase()) return 'must be lower-case';
  const labels = name.split('.');
  if (labels.length < 2) return 'needs at least two labels (example.com)';
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) return `has an invalid label ${JSON.stringify(bad.slice(0, 70))}: letters, digits and inner hyphens, 1 to 63 characters`;
  if (!/^[a-z]/.test(labels[labels.length - 1]!)) return 'has a top-level label that does not start with a letter';
  return null;
}

/**
 * The same rules as a pattern, so the API document says what a valid name is (one trailing dot
 * allowed, removed). The refinement after it names the reason for a refused name.
 */
const DOMAIN_PATTERN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/;

export const customDomainName = z
  .string()
  .max(253, 'at most 253 characters')
  .regex(DOMAIN_PATTERN, 'must be a lower-case domain name of two labels or more (www.example.com)')
  // Checks do not stop at the first failure: the refinement adds the reason this name is refused.
  .superRefine((raw, ctx) => {
    const name = raw.replace(/\.$/, '');
    const problem = customDomainProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: `${name.slice(0, 80)}${name.length > 80 ? '…' : ''} ${problem}` });
  })
  .transform((v) => v.replace(/\.$/, ''));

const branchName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._/-]+$/, 'a git branch name');

export const createDomainBodySchema = z.object({
  hostname: customDomainName,
  /** Which deployments it serves: production (default) or the newest ready one of a branch. */
  branch: branchName.nullable().default(null),
  /** Instead of serving, redirect (308) every request to this other domain of the project (www ↔ apex). */
  redirectTo: customDomainName.nullable().default(null),
  /** Send Strict-Transport-Security once the domain is served over HTTPS. */
  hsts: z.boolean().default(false),
});
export type CreateDomainBody = z.infer<typeof createDomainBodySchema>;

export const domainStatusSchema = z.enum(['pending', 'verified', 'issuing', 'active', 'failed']);
export type DomainStatus = z.infer<typeof domainStatusSchema>;

export const dnsRecordSchema = z.object({ type: z.enum(['TXT', 'CNAME']), name: z.string(), value: z.string() });

export const domainSchema = z.object({
  hostname: z.string(),
  projectId: z.string(),
  branch: z.string().nullable(),
  redirectTo: z.string().nullable(),
  hsts: z.boolean(),
  status: domainStatusSchema,
  /** Why it is pending or failed, in the DNS's or the CA's own words. */
  statusReason: z.string().nullable(),
  /** Either record proves the domain: the TXT record, or a CNAME to the platform. */
  dnsRecords: z.array(dnsRecordSchema),
  certificate: z.object({ notBefore: z.string(), notAfter: z.string(), renewAfter: z.string() }).nullable(),
  /** The last renewal's failure while the current certificate keeps being served; null when fine. */
  renewalError: z.string().nullable(),
  createdAt: z.string(),
});
export type Domain = z.infer<typeof domainSchema>;

/**
 * `domains/<hostname>.json`: what the proxy does for a custom domain, written by the api-server
 * once the domain is proved. The proxy serves what the route record of `serves` (the project's
 * production or branch hostname) points at, so a new deployment moves the domain with it.
 */
export const domainRecordSchema = z.object({
  projectId: z.string().min(1),
  /** The platform hostname whose route record is followed. */
  serves: z.string().min(1),
  /** Every request is redirected (308) here instead. */
  redirectTo: z.string().nullable().default(null),
  /** A certificate is active: plain HTTP is redirected to HTTPS. */
  https: z.boolean().default(false),
  hsts: z.boolean().default(false),
  updatedAt: z.string(),
});
export type DomainRecord = z.infer<typeof domainRecordSchema>;

export const domainRecordKey = (hostname: string): string => `domains/${hostname}.json`;
