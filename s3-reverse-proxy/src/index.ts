export { createProxyServer, parseHost, type ProxyServer, type ProxyDeps, type ProxyOptions } from './proxy.ts';
export { resolvePath, normalizeRequestPath } from './resolve.ts';
export { loadProxyConfig, type ProxyConfig } from './config.ts';
