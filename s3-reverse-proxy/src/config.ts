import { resolve } from 'node:path';
import { z } from 'zod';

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

export const proxyConfigSchema = z.object({
  // Port the proxy listens on. Default 8000.
  PROXY_PORT: optional(z.coerce.number().int().min(0).max(65_535).default(8000)),
  // Interface to listen on. Default 127.0.0.1.
  PROXY_HOST: optional(z.string().default('127.0.0.1')),
  // How long a route record is cached: a promote or rollback is live after at most this. Default 2000 ms.
  ROUTE_CACHE_TTL_MS: optional(z.coerce.number().int().min(0).max(300_000).default(2_000)),
  // Folder of the embedded object store (DATA_DIR/objects). Default .data
  DATA_DIR: optional(z.string().default('.data')),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
});

export type ProxyConfig = z.output<typeof proxyConfigSchema> & { dataDir: string };

export function loadProxyConfig(env: Record<string, string | undefined>): ProxyConfig {
  const result = proxyConfigSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  return { ...result.data, dataDir: resolve(result.data.DATA_DIR) };
}
