import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { ROOT, processesWith, runHostileScenario } from './hostile-scenario.ts';
import { runSandboxSuites } from './sandbox-required.ts';

// The control experiment: the same attacks, without the sandbox, do get through. Proves the
// hostile suite can fail, and is why single-user mode admits one account.
describe.skipIf(!runSandboxSuites)('the hostile build without a sandbox (control)', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ SANDBOX: 'off', MAX_CONCURRENT_BUILDS: '3' });
  }, 120_000);
  afterAll(async () => {
    await platform?.close();
    // What the unsandboxed attacks wrote outside the build: not left in the checkout or beside Node.
    rmSync(`${ROOT}/pwned.txt`, { force: true });
    rmSync(`${process.execPath}.pwned`, { force: true });
  });

  it("reads the platform's secrets and reaches its ports", async () => {
    const outcome = await runHostileScenario(platform);
    // Unsandboxed, the survivors do survive: end them here.
    const survivors = processesWith(outcome.marker);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    expect(survivors.length).toBeGreaterThan(0);
    const succeeded = outcome.attackLines.filter((l) => l.includes(': SUCCEEDED')).map((l) => l.split(':')[0] ?? '');
    expect(succeeded).toEqual(expect.arrayContaining(['ATTACK read-jwt-secret', 'ATTACK read-env-key', 'ATTACK see-platform-processes', 'ATTACK signal-api']));
    expect(succeeded.some((l) => l.startsWith('ATTACK connect-127.0.0.1'))).toBe(true);
  }, 240_000);
});
