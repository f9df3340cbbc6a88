/** The build sandbox this machine can give tests, probed once per test file that imports it. */
import type { SandboxSettings } from '@platform/contracts';
import { bubblewrapWorks } from '@platform/sandbox';

/**
 * The sandbox builds in these tests get: bubblewrap (as a uid of its own when the tests run as
 * root) where this machine can run it, as CI's does; otherwise none, as in single-user mode.
 * The hostile-build suite (test/sandbox) asserts the isolation itself and fails without it.
 */
export const SANDBOX_AVAILABLE = await bubblewrapWorks(process.getuid?.() === 0 ? { uid: 100_900 } : {});
export const TEST_SANDBOX: SandboxSettings = SANDBOX_AVAILABLE
  ? { isolation: 'bubblewrap', uid: 100_900, gid: 100_900, network: 'egress' }
  : { isolation: 'none' };
