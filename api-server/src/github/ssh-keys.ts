import { generateKeyPairSync } from 'node:crypto';

/**
 * A deploy key made here, in Node alone (no ssh-keygen on the api-server): ECDSA P-256, the
 * private half in the SEC1 PEM form OpenSSH reads, the public half in OpenSSH's one-line form
 * (`ecdsa-sha2-nistp256 <base64>`) that GitHub, GitLab and `authorized_keys` take.
 */
export function generateDeployKey(comment: string): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const wire = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(point)]);
  return {
    privateKey: privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
    publicKey: `ecdsa-sha2-nistp256 ${wire.toString('base64')} ${comment.replace(/[^\w.@-]/g, '-')}`,
  };
}

/** SSH's wire string: a 32-bit big-endian length, then the bytes. */
function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
