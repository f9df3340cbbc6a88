import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';

// The ignored build step as a project setting, end to end: the skipped deployment's own
// reason in the API, and in the notification a user receives.
describe('a project with an ignored build step', () => {
  let platform: TestPlatform;
  let receiver: Server;
  let receiverUrl: string;
  const received: { type: string; deployment: { id: string; status: string; errorMessage: string | null } }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    platform = await startEmbeddedPlatform({}, { notifications: { pollIntervalMs: 100, baseBackoffMs: 50, maxAttempts: 4 } });
  });
  afterAll(async () => {
    await platform?.close();
    receiver?.close();
  });

  it('validates the command, skips the build on exit 0 with a reason shown in the API and the notification, builds again once cleared', async () => {
    const repo = gitRepoFromFixture('vanilla-site');
    const bad = await http(platform.api, 'POST', '/projects', { name: 'Skipper', gitUrl: repo, ignoreCommand: 'git "unterminated' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('ignoreCommand');

    const created = await http(platform.api, 'POST', '/projects', { name: 'Skipper', gitUrl: repo, ignoreCommand: 'true' });
    expect(created.status).toBe(201);
    expect(created.json.project.ignoreCommand).toBe('true');
    const projectId: string = created.json.project.id;
    await http(platform.api, 'POST', `/projects/${projectId}/notifications`, { url: `${receiverUrl}/hook` });

    const deploy = await http(platform.api, 'POST', '/deploy', { projectId });
    const skipped = await waitForDeployment(platform.api, deploy.json.deployment.id, 120_000);
    expect(skipped).toMatchObject({ status: 'CANCELED', errorMessage: 'skipped: the ignored build step "true" exited with code 0' });
    const logs = await http(platform.api, 'GET', `/deployments/${skipped.id}/logs`);
    expect(JSON.stringify(logs.json)).toContain('skipping the build');
    for (let i = 0; i < 100 && !received.some((e) => e.type === 'deployment.canceled'); i++) await sleep(100);
    expect(received.find((e) => e.type === 'deployment.canceled')?.deployment).toMatchObject({
      id: skipped.id,
      errorMessage: 'skipped: the ignored build step "true" exited with code 0',
    });

    expect((await http(platform.api, 'PATCH', `/projects/${projectId}`, { ignoreCommand: null })).json.project.ignoreCommand).toBeNull();
    const built = await waitForDeployment(platform.api, (await http(platform.api, 'POST', '/deploy', { projectId })).json.deployment.id, 120_000);
    expect(built.status).toBe('READY');
  });
});
