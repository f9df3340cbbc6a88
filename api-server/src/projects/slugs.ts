import { projectSlug, randomId, RESERVED_SLUGS } from '@platform/contracts';
import { InvalidProjectSettings } from './errors.ts';

/** Subdomains the platform keeps for itself (the proxy forwards `api.<ROOT_DOMAIN>` to the API). */
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

/**
 * The slugs to try, in order, for a new project. A slug asked for explicitly is the only
 * candidate and must be usable; one derived from the name is tried as it is, then with a
 * short random suffix (up to five tries in all), which also fixes a name that only ends badly.
 */
export function slugCandidates(body: { name: string; slug?: string | undefined }): { base: string; candidates: Iterable<string> } {
  const base = body.slug ?? projectSlug(body.name);
  if (!base) throw new InvalidProjectSettings('name', 'must contain a letter or digit');
  const baseReason = reservedSlugReason(base);
  if (baseReason && (body.slug || reservedSlugReason(`${base.slice(0, 34)}-abcde`))) {
    throw new InvalidProjectSettings(body.slug ? 'slug' : 'name', `the subdomain ${baseReason}; choose another ${body.slug ? 'slug' : 'name or pass a slug'}`);
  }
  if (body.slug) return { base, candidates: [base] };
  function* derived(): Generator<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const slug = attempt === 0 && !baseReason ? base : `${base.slice(0, 34).replace(/-+$/, '')}-${randomId(5)}`;
      if (!reservedSlugReason(slug)) yield slug;
    }
  }
  return { base, candidates: derived() };
}
