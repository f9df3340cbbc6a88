import { describe, expect, it } from 'vitest';
import { assertPublicUrl, isPrivateAddress } from './ssrf.ts';

describe('notification URL safety', () => {
  it('classifies internal addresses as private', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      'not-an-ip',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '140.82.112.3', '2606:4700::1111']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('classifies every IPv6 spelling of an IPv4 address, site-local and documentation ranges as private', () => {
    for (const a of [
      '::127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:127.0.0.1',
      '64:ff9b::7f00:1',
      '64:ff9b:1::a00:1',
      '2002:7f00:1::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      'fec0::1',
      '2001:db8::1',
      '100::1',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
  });

  it('refuses the bracketed IPv6 forms of loopback that a URL may carry', async () => {
    for (const url of ['http://[::127.0.0.1]/', 'http://[::ffff:127.0.0.1]/', 'http://[64:ff9b::127.0.0.1]/', 'http://[2002:7f00:1::]/', 'http://[fec0::1]/']) {
      await expect(assertPublicUrl(url), url).rejects.toThrow(/private/);
    }
  });

  it('refuses loopback URLs by literal address and by name', async () => {
    await expect(assertPublicUrl('http://127.0.0.1:4566/')).rejects.toThrow(/private/);
    await expect(assertPublicUrl('http://[::1]/')).rejects.toThrow(/private/);
    await expect(assertPublicUrl('http://localhost/')).rejects.toThrow(/private/);
    await expect(assertPublicUrl('http://169.254.169.254/latest/meta-data')).rejects.toThrow(/private/);
    await expect(assertPublicUrl('https://8.8.8.8/hook')).resolves.toBeUndefined();
  });
});

describe('publicOnlyLookup', () => {
  it('refuses at connect time a name that resolves to loopback', async () => {
    const { request } = await import('node:http');
    const { publicOnlyLookup } = await import('./ssrf.ts');
    const error = await new Promise<Error>((resolve) => {
      const req = request('http://localhost:9/', { lookup: publicOnlyLookup }, () => resolve(new Error('connected')));
      req.on('error', resolve);
      req.end();
    });
    expect(error.message).toMatch(/private or internal address/);
  });
});
