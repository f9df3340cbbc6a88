import { SANDBOX_AVAILABLE } from '@platform/testing/sandbox';

/**
 * The hostile-build suites need bubblewrap (`apt-get install -y bubblewrap slirp4netns nftables`;
 * `npm test` installs it itself on a Debian machine run as root). Where it is missing they say
 * so and are skipped, as the platform then runs in single-user mode (which its own suite
 * checks); CI sets REQUIRE_SANDBOX=1, so there a missing sandbox fails instead.
 */
export const runSandboxSuites = SANDBOX_AVAILABLE || process.env.REQUIRE_SANDBOX === '1';
if (!runSandboxSuites) console.warn('sandbox suites skipped: bubblewrap cannot run here (apt-get install -y bubblewrap slirp4netns nftables)');
