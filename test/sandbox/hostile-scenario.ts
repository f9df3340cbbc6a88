import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { processesWith } from '@platform/testing/processes';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import type { TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

export const ROOT = join(import.meta.dirname, '..', '..');

/** Every attack attack.mjs makes; each must report, and each must be blocked. */
export const ATTACKS = [
  'read-jwt-secret',
  'read-env-key',
  'read-admin-credentials',
  'read-database',
  'list-deployments',
  'list-clickhouse',
  'write-route',
  'read-platform-source',
  'write-platform-source',
  'write-toolchain',
  'write-root',
  'read-host-tmp',
  'cgroup-escape',
  'see-platform-processes',
  'read-api-environ',
  'read-api-cmdline',
  'signal-api',
  'read-supervisor-memory',
  'take-supervisor-descriptors',
  'forge-status-event',
  'nested-user-namespace',
  'capabilities',
  'read-other-build',
];

export { processesWith };

export interface HostileOutcome {
  /** In the command line of every process the build tries to leave behind. */
  marker: string;
  lines: { stream: string; message: string }[];
  attackLines: string[];
  deployment: any;
}

/**
 * The whole scenario on a running platform: an owner's site is live (the victim), a second
 * tenant's build runs with a secret env var, and a third account deploys attack.mjs, told
 * where the platform keeps its data, its source, its pid, ports and addresses. Returns the
 * hostile build's log; `assertHostileOutcome` checks it and the platform from outside.
 */
export async function runHostileScenario(
  platform: TestPlatform,
  options: { buildTimeoutMs?: number } = {},
): Promise<HostileOutcome & { check: () => Promise<void> }> {
  const apiPort = new URL(platform.api).port;
  // A service of this machine bound to every interface, as an admin's database or Kafka might be.
  // The attacker hangs up at once (unsandboxed, in the control run, it does connect): a reset is no error here.
  const listener: Server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end('secret service\n');
  });
  await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
  const extraPort = (listener.address() as { port: number }).port;
  const hostIps = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);

  // The victim: the platform's first account, its site live.
  const victim = await http(platform.api, 'POST', '/project', { name: 'victim', gitUrl: gitRepoFromFixture('vanilla-site') });
  const victimDeploy = await http(platform.api, 'POST', '/deploy', { projectId: victim.json.project.id });
  expect((await waitForDeployment(platform.api, victimDeploy.json.deployment.id, 120_000)).status).toBe('READY');
  const victimPage = (await viaProxy(platform.proxyPort, 'victim.localhost')).text;

  // A second tenant's build, running while the attack runs, with a secret.
  const other = await platform.signup();
  const otherSecret = `other-tenant-secret-${Math.random().toString(36).slice(2)}`;
  const asOther = { authorization: `Bearer ${other.token}` };
  const otherProject = await http(platform.api, 'POST', '/project', { name: 'other-tenant', gitUrl: gitRepoFromFixture('slow-build') }, asOther);
  await http(platform.api, 'POST', `/projects/${otherProject.json.project.id}/env`, { key: 'OTHER_TENANT_SECRET', value: otherSecret }, asOther);
  const otherDeploy = await http(platform.api, 'POST', '/deploy', { projectId: otherProject.json.project.id }, asOther);

  // The attacker: a fresh account.
  const attacker = await platform.signup();
  const asAttacker = { authorization: `Bearer ${attacker.token}` };
  const marker = `survivor-${Math.random().toString(36).slice(2)}`;
  const project = await http(platform.api, 'POST', '/project', { name: 'hostile', gitUrl: gitRepoFromFixture('hostile-build') }, asAttacker);
  expect(project.status, project.text).toBe(201);
  const projectId = project.json.project.id as string;
  const vars: Record<string, string> = {
    ATTACK_DATA_DIR: platform.dataDir,
    ATTACK_SOURCE_DIR: ROOT,
    ATTACK_API_PID: String(process.pid),
    ATTACK_PORTS: [apiPort, String(platform.proxyPort), String(extraPort)].join(','),
    ATTACK_HOST_IPS: hostIps.join(','),
    ATTACK_VICTIM_HOST: 'victim.localhost',
    ATTACK_VICTIM_PROJECT_ID: victim.json.project.id,
    ATTACK_PROJECT_ID: projectId,
    ATTACK_MARKER: marker,
    ATTACK_OTHER_SECRET_NAME: 'OTHER_TENANT_SECRET',
  };
  for (const [key, value] of Object.entries(vars)) {
    const set = await http(platform.api, 'POST', `/projects/${projectId}/env`, { key, value }, asAttacker);
    expect(set.status, set.text).toBe(201);
  }
  // Wait until the other tenant's build is really running, so there is something to steal.
  for (let i = 0; i < 600; i++) {
    const logs = (await http(platform.api, 'GET', `/deployments/${otherDeploy.json.deployment.id}/logs`, undefined, asOther)).json.lines as {
      message: string;
    }[];
    if (logs.some((l) => l.message.startsWith('slow build: working'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const deploy = await http(platform.api, 'POST', '/deploy', { projectId }, asAttacker);
  const deployment = await waitAs(platform.api, deploy.json.deployment.id, asAttacker, options.buildTimeoutMs ?? 180_000).catch(async (err: Error) => {
    const logs = (await http(platform.api, 'GET', `/deployments/${deploy.json.deployment.id}/logs`, undefined, asAttacker)).json.lines as {
      stream: string;
      message: string;
    }[];
    const now = (await http(platform.api, 'GET', `/deployments/${deploy.json.deployment.id}`, undefined, asAttacker)).json.deployment;
    throw new Error(`${err.message} (status ${now?.status}):\n${logs.map((l) => `[${l.stream}] ${l.message}`).join('\n')}`);
  });
  const lines = (await http(platform.api, 'GET', `/deployments/${deployment.id}/logs`, undefined, asAttacker)).json.lines as {
    stream: string;
    message: string;
  }[];
  const attackLines = lines.map((l) => l.message).filter((m) => m.startsWith('ATTACK '));

  const check = async () => {
    const text = lines.map((l) => `[${l.stream}] ${l.message}`).join('\n');
    expect(deployment.status, text).toBe('READY');
    // Every attack ran and reported, and none succeeded.
    for (const name of ATTACKS)
      expect(
        attackLines.some((l) => l.startsWith(`ATTACK ${name}:`)),
        `attack ${name} did not report:\n${text}`,
      ).toBe(true);
    expect(
      attackLines.filter((l) => l.includes(': SUCCEEDED')),
      text,
    ).toEqual([]);
    const connects = attackLines.filter((l) => l.startsWith('ATTACK connect-'));
    expect(connects.length).toBeGreaterThanOrEqual(3 + hostIps.length * 3);
    // User output is stdout or stderr, never the platform's own voice.
    expect(lines.filter((l) => l.message === 'Deployment ready in 0.1 s').map((l) => l.stream)).toEqual(['stdout']);
    expect(lines.filter((l) => l.message.startsWith('ATTACK') && l.stream === 'system')).toEqual([]);
    // The other tenant's secret never reached the attacker.
    expect(text).not.toContain(otherSecret);
    // Nothing it left behind survives the build: not the setsid'd, double-forked, chdir'd ones.
    await new Promise((r) => setTimeout(r, 300));
    expect(processesWith(marker)).toEqual([]);
    // The victim's site is untouched, its route record its own.
    expect((await viaProxy(platform.proxyPort, 'victim.localhost')).text).toBe(victimPage);
    // The attacker's own site is served: the sandbox did not break a real build.
    expect((await viaProxy(platform.proxyPort, 'hostile.localhost')).text).toContain('hostile build');
    // The forged events changed nothing: the attacker's deployment and the platform are as they were.
    expect((await http(platform.api, 'GET', '/healthz')).status).toBe(200);
    listener.close();
    await http(platform.api, 'POST', `/deployments/${otherDeploy.json.deployment.id}/cancel`, {}, asOther);
  };
  return { marker, lines, attackLines, deployment, check };
}

/** waitForDeployment, as the account that owns the deployment. */
export async function waitAs(api: string, id: string, headers: Record<string, string>, timeoutMs: number): Promise<any> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { json } = await http(api, 'GET', `/deployments/${id}`, undefined, headers);
    if (['READY', 'ERROR', 'CANCELED'].includes(json?.deployment?.status)) return json.deployment;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`deployment ${id} did not finish within ${timeoutMs} ms`);
}
