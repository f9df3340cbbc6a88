export { createProxyServer, type ProxyServer, type ProxyDeps, type ProxyOptions } from './proxy.ts';
export { parseHost, HostClassifier } from './host.ts';
export { normalizeRequestPath } from './request-path.ts';
export { Site } from './site.ts';
export { loadProxyConfig, proxyOptionsFrom, type ProxyConfig } from './config.ts';
