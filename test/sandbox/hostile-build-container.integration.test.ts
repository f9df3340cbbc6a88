import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { runHostileScenario } from './hostile-scenario.ts';

// The hostile build of hostile-build.e2e.test.ts on the container runner (real podman): the
// build-server in a container with a user namespace of its own, the user's commands inside it
// in the bubblewrap sandbox as uid 1001, the container's network filtered for that uid.

const ROOT = join(import.meta.dirname, '..', '..');
const IMAGE = 'localhost/platform-build-server:test';

describe('a hostile build on the container runner', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    if (spawnSync('podman', ['--version']).status !== 0) throw new Error('podman is not installed: npm run runner:podman-setup');
    execFileSync('bash', [join(ROOT, 'packages/runner/container/build-image.sh')], { env: { ...process.env, IMAGE }, stdio: ['ignore', 'ignore', 'inherit'] });
    platform = await startEmbeddedPlatform({
      RUNNER: 'container',
      CONTAINER_IMAGE: IMAGE,
      CONTAINER_MEMORY: '1g',
      MAX_CONCURRENT_BUILDS: '3',
      RECONCILE_INTERVAL_MS: '1000',
    });
  }, 300_000);
  afterAll(async () => platform?.close());

  it('reaches nothing of the platform, of this machine or of another tenant, and leaves nothing behind', async () => {
    const outcome = await runHostileScenario(platform);
    await outcome.check();
  }, 300_000);
});
