import { existsSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * `npm run infra:up` writes the real servers' settings to `.infra/env`; integration tests
 * pick them up from there unless the environment already says otherwise.
 */
function infraEnv(): Record<string, string> {
  const file = new URL('./.infra/env', import.meta.url);
  if (!existsSync(file)) return {};
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match && process.env[match[1]!] === undefined) env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '');
  }
  return env;
}

// Three projects: `unit` (npm test) needs nothing but Node; `integration` (npm run
// test:integration) runs against the real servers that `npm run infra:up` starts; `browser`
// (npm run test:browser) drives Debian's Chromium through playwright-core against the
// platform on the embedded default.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.integration.test.ts', '**/*.browser.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/src/**/*.integration.test.ts', 'test/**/*.integration.test.ts'],
          exclude: ['**/node_modules/**'],
          env: infraEnv(),
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.browser.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // One Chromium at a time: these machines have two cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
