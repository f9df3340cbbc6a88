/**
 * Object-store keys of the certificate machinery, shared by the api-server (writer) and every
 * proxy replica (reader). Hostnames in keys are validated DNS names (lower-case, no slashes).
 */
export const certificateKey = (host: string): string => `certificates/${host}.json`;
export const ACME_ACCOUNT_KEY = 'acme/account.json';
/** HTTP-01 answers: the proxy serves `/.well-known/acme-challenge/<token>` for `host` from here. */
export const challengeKey = (host: string, token: string): string => `acme-challenges/${host}/${token}`;
/** ACME tokens are base64url (RFC 8555 §8.3); anything else is never looked up. */
export const ACME_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
