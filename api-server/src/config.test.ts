import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { accessOptionsFrom, loadApiConfig, loadApiSecrets } from './config.ts';

describe('api-server configuration: accounts and secrets', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-config-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('defaults suit the embedded default', () => {
    const config = loadApiConfig({ DATA_DIR: dataDir() });
    expect(config).toMatchObject({ ACCESS_TOKEN_TTL_SECONDS: 43_200, ALLOW_SIGNUP: true, LOGIN_RATE_LIMIT_PER_MINUTE: 10, ALLOW_PRIVATE_WEBHOOK_URLS: false });
    expect(config.JWT_SECRET).toBeUndefined();
  });

  it('generates the keys once under DATA_DIR, owner-only, and reuses them', () => {
    const config = loadApiConfig({ DATA_DIR: dataDir() });
    const first = loadApiSecrets(config);
    const second = loadApiSecrets(config);
    expect(first.envEncryptionKey).toHaveLength(32);
    expect(second.envEncryptionKey.equals(first.envEncryptionKey)).toBe(true);
    expect(Buffer.from(second.jwtSecret).equals(Buffer.from(first.jwtSecret))).toBe(true);
    const keyFile = join(config.dataDir, 'secrets', 'env-encryption-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(first.envEncryptionKey.toString('hex'));
  });

  it('takes the keys from the environment, hex or base64', () => {
    const hex = 'ab'.repeat(32);
    const fromHex = accessOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), ENV_ENCRYPTION_KEY: hex, JWT_SECRET: 'x'.repeat(32) }));
    expect(fromHex.envEncryptionKey.toString('hex')).toBe(hex);
    expect(new TextDecoder().decode(fromHex.jwtSecret)).toBe('x'.repeat(32));
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(accessOptionsFrom(loadApiConfig({ DATA_DIR: dataDir(), ENV_ENCRYPTION_KEY: b64 })).envEncryptionKey).toEqual(Buffer.alloc(32, 7));
  });

  it('refuses bad values naming the variable', () => {
    expect(() => loadApiConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
    expect(() => loadApiConfig({ ENV_ENCRYPTION_KEY: 'abcd' })).toThrow(/ENV_ENCRYPTION_KEY/);
    expect(() => loadApiConfig({ ALLOW_SIGNUP: 'maybe' })).toThrow(/ALLOW_SIGNUP/);
    expect(() => loadApiConfig({ LOGIN_RATE_LIMIT_PER_MINUTE: '0' })).toThrow(/LOGIN_RATE_LIMIT_PER_MINUTE/);
  });
});
