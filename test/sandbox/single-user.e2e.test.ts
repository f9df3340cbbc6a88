import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOptionsFrom, createApiServer, createDrivers, loadApiConfig, type ApiServer } from '@platform/api-server';
import { createLogger } from '@platform/logger';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from '@platform/testing/http';

// Where no sandbox can run (SANDBOX=off stands in for a machine without bubblewrap), the
// platform still starts, in single-user mode: the first account only, a clear word at
// GET /platform, and no configuration that would let a second account in.

describe('single-user mode (builds unsandboxed)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'platform-single-'));
  let api: ApiServer;
  let deps: Awaited<ReturnType<typeof createDrivers>>;
  let base = '';
  beforeAll(async () => {
    const config = loadApiConfig({ PATH: process.env.PATH ?? '', DATA_DIR: dataDir, SANDBOX: 'off', LOG_LEVEL: 'silent' });
    deps = await createDrivers(config, createLogger({ level: 'silent' }));
    api = await createApiServer(deps, apiOptionsFrom(config, deps.runner));
    base = `http://127.0.0.1:${await api.listen(0)}`;
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await deps?.runner.close();
    await deps?.bus.close();
    await deps?.clickhouse.close();
    await deps?.db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says so, lets the first account sign up and no second one', async () => {
    const platform = await http(base, 'GET', '/platform', undefined, { authorization: '' });
    expect(platform.json.builds).toMatchObject({ sandboxed: false });
    expect(platform.json.builds.summary).toContain('unsandboxed');
    expect(platform.json.signup).toBe('first-account');
    const first = await http(base, 'POST', '/auth/signup', { email: 'admin@example.test', password: 'correct horse battery staple' }, { authorization: '' });
    expect(first.status).toBe(201);
    const second = await http(
      base,
      'POST',
      '/auth/signup',
      { email: 'stranger@example.test', password: 'correct horse battery staple' },
      { authorization: '' },
    );
    expect(second.status).toBe(403);
    expect(second.json.error).toMatchObject({ code: 'signup_single_user' });
    expect(second.json.error.message).toContain('install bubblewrap');
  });

  it('keeps its data folder to itself: DATA_DIR 0700, secrets 0600', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'secrets')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'secrets', 'jwt-secret')).mode & 0o777).toBe(0o600);
  });

  it('refuses to start with open sign-up, or when told the sandbox is required', async () => {
    const logger = createLogger({ level: 'silent' });
    const open = loadApiConfig({
      PATH: process.env.PATH ?? '',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'platform-single-')),
      SANDBOX: 'off',
      ALLOW_SIGNUP: 'true',
    });
    await expect(createDrivers(open, logger)).rejects.toThrow('invalid configuration: ALLOW_SIGNUP: open sign-up needs the build sandbox');
    // A PATH without bubblewrap on it: the probe finds no sandbox.
    const required = loadApiConfig({ PATH: '/nonexistent', DATA_DIR: mkdtempSync(join(tmpdir(), 'platform-single-')), SANDBOX: 'required' });
    await expect(createDrivers(required, logger)).rejects.toThrow(
      'invalid configuration: SANDBOX: required, but builds cannot be sandboxed here: bubblewrap is not installed',
    );
  });
});
