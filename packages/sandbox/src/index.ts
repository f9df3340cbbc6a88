export * from './sandbox.ts';
export { createSandbox, SandboxUnavailableError, DEFAULT_SANDBOX_UID, type CreateSandboxOptions } from './create.ts';
export { probeSandbox, bubblewrapWorks, type SandboxProbe } from './probe.ts';
export { bubblewrapArgs, killEverySandbox } from './bubblewrap.ts';
export { egressRules, hostAddresses, BLOCKED_IPV4 } from './egress.ts';
export { createBuildCgroup, endBuildCgroup, type BuildCgroup } from './cgroup.ts';
