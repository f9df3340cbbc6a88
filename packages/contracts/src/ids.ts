import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Lower-case alphanumerics only, so a slice of an id is always a valid DNS label part. */
export function randomId(length = 20): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** The short id used in a deployment's immutable hostname: `<project>-<shortId>.<root>`. */
export function deploymentShortId(deploymentId: string): string {
  return deploymentId.slice(0, 9);
}

/** Turns a branch name into a DNS label fragment: `feature/Login_v2` → `feature-login-v2`. */
export function branchSlug(branch: string): string {
  return branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
}

/** Turns a project name into its subdomain slug. */
export function projectSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
}
