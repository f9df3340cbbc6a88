import { afterAll, beforeAll, describe, it } from 'vitest';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { runHostileScenario } from './hostile-scenario.ts';
import { runSandboxSuites } from './sandbox-required.ts';

// A stranger's build attacks the platform on the embedded default (RUNNER=local): its files,
// its processes, another tenant's build, this machine's network, the deployment's fate. Each
// attack is a line of test/fixtures/hostile-build/attack.mjs that fails this test if it works.

describe.skipIf(!runSandboxSuites)('a hostile build on the local runner', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ MAX_CONCURRENT_BUILDS: '3' });
  }, 120_000);
  afterAll(async () => platform?.close());

  it('reaches nothing of the platform, of this machine or of another tenant, and leaves nothing behind', async () => {
    const outcome = await runHostileScenario(platform);
    await outcome.check();
  }, 240_000);
});
