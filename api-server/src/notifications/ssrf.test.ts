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

  it('takes only global unicast IPv6 as public: every other form of loopback, unspecified, mapped, translated, NAT64, 6to4, ULA, link-local, site-local and multicast is private', () => {
    for (const a of [
      '::',
      '0:0:0:0:0:0:0:1',
      '::ffff:0:7f00:1', // IPv4-translated
      '::ffff:0:127.0.0.1',
      '0:0:0:0:0:ffff:a00:1',
      '::ffff:8.8.8.8', // mapped, even of a public address
      '64:ff9b::a00:1',
      '64:ff9b::8.8.8.8',
      '2002:a00:1::1',
      '2002:c0a8:101::1',
      'fc00::1',
      'fdff:ffff::1',
      'fe80::1',
      'febf::1',
      'FEC0::1',
      'feff::1',
      'ff02::1',
      'FF05::1:3',
      '::1:0:0:1',
      '5f00::1',
      '3fff::1',
      '2001:2::1',
      '2001:20::1',
      'fe80::1%eth0',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['2a00:1450:4001:80b::200e', '2001:4860:4860::8888', '2606:4700:4700::1111']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses the IPv4 documentation, 6to4-relay and spelled-differently forms', async () => {
    for (const a of ['192.0.2.1', '198.51.100.1', '203.0.113.1', '192.88.99.1']) expect(isPrivateAddress(a), a).toBe(true);
    for (const url of [
      'http://2130706433/',
      'http://0x7f.1/',
      'http://127.1/',
      'http://0/',
      'http://[::]/',
      'http://[::ffff:0:7f00:1]/',
      'http://[FF02::1]/',
    ]) {
      await expect(assertPublicUrl(url), url).rejects.toThrow(/private/);
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

describe('DNS rebinding', () => {
  it('a name public when checked and private when connecting is refused at connect time', async () => {
    const { request } = await import('node:http');
    const { publicOnlyLookupVia } = await import('./ssrf.ts');
    // The attacker's name server: a public address for the check, loopback for the connection.
    let asked = 0;
    const answer = () => (asked++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']);
    await expect(assertPublicUrl('http://rebind.example.test/', async () => answer())).resolves.toBeUndefined();
    const lookup = publicOnlyLookupVia((_host, _options, callback) =>
      callback(
        null,
        answer().map((address) => ({ address, family: 4 })),
      ),
    );
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const req = request('http://rebind.example.test:9/', { lookup }, () => resolve(new Error('connected')));
      req.on('error', resolve);
      req.end();
    });
    expect(error.code).toBe('EPRIVATE');
    expect(asked).toBe(2);
  });

  it('refuses a name that answers with a public and a private address at once', async () => {
    await expect(assertPublicUrl('http://mixed.example.test/', async () => ['93.184.216.34', '::ffff:0:a00:1'])).rejects.toThrow(/private/);
  });
});
