import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const INFRA_ENV_FILE = join(REPO_ROOT, '.infra', 'env');

/** `export NAME=value` lines that `npm run infra:up` writes to `.infra/env`. */
function infraEnvFile(): Record<string, string> {
  if (!existsSync(INFRA_ENV_FILE)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(INFRA_ENV_FILE, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) vars[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

/**
 * Settings of the real servers for integration tests: the environment first, then the
 * `.infra/env` file that `npm run infra:up` writes. A missing one fails the test with a
 * message saying how to get it, never a silent skip.
 */
export function integrationEnv<const Name extends string>(...names: Name[]): Record<Name, string> {
  const file = infraEnvFile();
  const out = {} as Record<Name, string>;
  const missing: string[] = [];
  for (const name of names) {
    const value = process.env[name] || file[name];
    if (value) out[name] = value;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(
      `integration tests need ${missing.join(', ')}: start the servers with \`npm run infra:up\` ` +
        '(it writes .infra/env, read automatically) or export the variables yourself',
    );
  }
  return out;
}

/** An optional setting (same sources), undefined when absent. */
export function optionalIntegrationEnv(name: string): string | undefined {
  return process.env[name] || infraEnvFile()[name] || undefined;
}
