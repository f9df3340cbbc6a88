/**
 * AES-256-GCM for secrets kept at rest (env var values, webhook secrets, git credentials):
 * the certificates package's sealer, one implementation for everything the platform seals.
 * Each value is bound to its row by associated data (e.g. `env:<projectId>:<key>:<target>`),
 * so a ciphertext copied into another row does not decrypt. Format: `v1:<base64 iv | tag | ciphertext>`.
 */
export { Sealer as SecretBox } from '@platform/certificates';
