import { describe, expect, it } from 'vitest';
import { loadProxyConfig, proxyOptionsFrom } from './config.ts';

describe('proxy configuration', () => {
  it('has working defaults', () => {
    const config = loadProxyConfig({});
    expect(config).toMatchObject({ PROXY_PORT: 8000, PROXY_WORKERS: 1, ROOT_DOMAIN: 'localhost', ROUTE_CACHE_TTL_MS: 2_000, API_UPSTREAM_URL: 'http://127.0.0.1:9000' });
    expect(proxyOptionsFrom(config)).toMatchObject({ rootDomain: 'localhost', routeTtlMs: 2_000, fileCacheMaxBytes: 256 * 1024 ** 2 });
  });

  it('coerces numbers, treats empty strings as unset and accepts auto workers', () => {
    const config = loadProxyConfig({ PROXY_PORT: '8080', ROUTE_CACHE_TTL_MS: '', PROXY_WORKERS: 'auto' });
    expect(config.PROXY_PORT).toBe(8080);
    expect(config.ROUTE_CACHE_TTL_MS).toBe(2_000);
    expect(config.PROXY_WORKERS).toBeGreaterThanOrEqual(1);
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => loadProxyConfig({ PROXY_PORT: 'x' })).toThrow(/PROXY_PORT/);
    expect(() => loadProxyConfig({ ROOT_DOMAIN: 'Bad Domain' })).toThrow(/ROOT_DOMAIN/);
    expect(() => loadProxyConfig({ API_UPSTREAM_URL: 'ftp://x' })).toThrow(/API_UPSTREAM_URL/);
    expect(() => loadProxyConfig({ PROXY_WORKERS: '0' })).toThrow(/PROXY_WORKERS/);
  });
});
