import { RESERVED_SLUGS } from '@platform/contracts';

const RESERVED = new Set<string>(RESERVED_SLUGS);

/**
 * Why a project slug cannot be used, or null. Every project owns three kinds of hostname:
 * `<slug>`, `<slug>-<9-character deployment id>` and `<slug>-git-<branch>`. A slug that looks
 * like one of the latter two (or ends in `-git`) could claim another project's deployment or
 * branch hostname, so the namespaces are kept apart by shape.
 */
export function reservedSlugReason(slug: string): string | null {
  if (RESERVED.has(slug)) return `"${slug}" is reserved by the platform`;
  if (slug.includes('-git-') || slug.endsWith('-git')) return `"${slug}" contains "-git", which is kept for branch hostnames`;
  if (/-[a-z0-9]{9}$/.test(slug)) return `"${slug}" ends with a 9-character part, which is kept for deployment hostnames`;
  return null;
}
