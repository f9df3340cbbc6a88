import { describe, expect, it } from 'vitest';
import { encodeBuildTaskEnv } from '@platform/contracts';
import { loadConfig } from './config.ts';

const task = encodeBuildTaskEnv({
  deploymentId: 'dep12345678',
  projectId: 'p1',
  gitUrl: 'https://github.com/org/repo.git',
  storage: { driver: 'local', dir: '/data' },
  transport: { driver: 'pipe' },
  sandbox: { isolation: 'bubblewrap' },
});

describe('build-server config', () => {
  it('has defaults for everything but the task, and passes only PATH and LANG on to user commands', () => {
    const config = loadConfig({ ...task, PATH: '/usr/bin', LANG: 'C.UTF-8', AWS_SECRET_ACCESS_KEY: 'x', HOME: '/root' });
    expect(config.limits).toEqual({ maxFiles: 20_000, maxTotalBytes: 1024 ** 3, concurrency: 32 });
    expect(config.logCaps).toEqual({ maxLines: 20_000, maxBytes: 5 * 1024 ** 2 });
    expect(config.cacheMaxBytes).toBe(2 * 1024 ** 3);
    expect(config.baseEnv).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8' });
    expect(config.task).toMatchObject({ deploymentId: 'dep12345678', useBuildCache: true, timeoutMs: 15 * 60_000, rootDirectory: '.' });
  });

  it('coerces numbers and treats an empty string as unset', () => {
    const config = loadConfig({ ...task, BUILD_UPLOAD_CONCURRENCY: '8', BUILD_LOG_MAX_LINES: '', BUILD_WORK_DIR: '/work' });
    expect(config.limits.concurrency).toBe(8);
    expect(config.logCaps.maxLines).toBe(20_000);
    expect(config.workDir).toBe('/work');
  });

  it('installs toolchains from registry.npmjs.org by default, or from the mirror and cache folder given', () => {
    expect(loadConfig(task).toolchains).toMatchObject({ registry: 'https://registry.npmjs.org', cacheDir: expect.stringMatching(/platform-toolchains-/) });
    const mirrored = loadConfig({ ...task, BUILD_NPM_REGISTRY: 'https://npm.internal.example/', BUILD_TOOLCHAIN_CACHE_DIR: '/cache/toolchains' });
    expect(mirrored.toolchains).toEqual({ registry: 'https://npm.internal.example/', cacheDir: '/cache/toolchains' });
    expect(() => loadConfig({ ...task, BUILD_NPM_REGISTRY: 'not a url' })).toThrow(/BUILD_NPM_REGISTRY/);
  });

  it('refuses bad values naming the variable, and a missing or invalid task', () => {
    expect(() => loadConfig({ ...task, BUILD_UPLOAD_CONCURRENCY: '0' })).toThrow(/^invalid configuration: BUILD_UPLOAD_CONCURRENCY: /);
    expect(() => loadConfig({ ...task, BUILD_MAX_OUTPUT_BYTES: 'lots' })).toThrow(/BUILD_MAX_OUTPUT_BYTES/);
    expect(() => loadConfig({})).toThrow('BUILD_TASK is not set');
    expect(() => loadConfig({ BUILD_TASK: '{' })).toThrow('BUILD_TASK is not valid JSON');
  });
});
