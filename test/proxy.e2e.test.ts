import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOptionsFrom, createApiServer, createEmbeddedDrivers, loadApiConfig, type ApiDeps, type ApiServer } from '@platform/api-server';
import { createLogger } from '@platform/logger';
import { createProxyServer, type ProxyServer } from '@platform/s3-reverse-proxy';
import { gitRepoFromFixture } from '@platform/testing/fixtures';
import { http, signUpDefaultUser, waitForDeployment } from '@platform/testing/http';
import { viaProxy } from '@platform/testing/proxy';

// The proxy as the single ingress on the embedded default: sites by Host header, the API and
// its socket.io live logs on api.localhost, request logs through the bus into ClickHouse and
// out of the analytics endpoint, and sites still served once the api-server is gone.
describe('proxy ingress, analytics, and serving without the api-server', () => {
  let dataDir: string;
  let deps: ApiDeps;
  let api: ApiServer;
  let apiBase: string;
  let proxy: ProxyServer;
  let proxyPort: number;
  let apiStopped = false;
  let token: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'platform-proxy-e2e-'));
    const config = loadApiConfig({
      PATH: process.env.PATH ?? '',
      DATA_DIR: dataDir,
      API_PORT: '0',
      PROXY_PORT: '0',
      LOG_LEVEL: 'warn',
      ALLOW_LOCAL_GIT: 'true',
      LOCAL_GIT_ROOTS: tmpdir(),
    });
    const logger = createLogger({ level: 'warn' });
    deps = await createEmbeddedDrivers(config, logger);
    api = await createApiServer(deps, apiOptionsFrom(config));
    const apiPort = await api.listen(0);
    apiBase = `http://127.0.0.1:${apiPort}`;
    token = await signUpDefaultUser(apiBase);
    proxy = createProxyServer(
      { store: deps.store, bus: deps.bus, logger },
      { routeTtlMs: 200, requestLogFlushMs: 100, rootDomain: 'localhost', apiUpstream: apiBase },
    );
    proxyPort = await proxy.listen(0);
  });
  afterAll(async () => {
    await proxy?.close();
    if (!apiStopped) await api?.close();
    await deps?.runner.close();
    await deps?.bus.close();
    await deps?.clickhouse.close();
    await deps?.db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves a deployment, counts its requests in the analytics, and keeps serving after the api-server stops', async () => {
    const repo = gitRepoFromFixture('vanilla-site');
    const created = await http(apiBase, 'POST', '/project', { name: 'ingress', gitUrl: repo });
    expect(created.status).toBe(201);
    const projectId: string = created.json.project.id;
    const deploy = await http(apiBase, 'POST', '/deploy', { projectId });
    const deploymentId: string = deploy.json.deployment.id;

    // Live logs through the proxy: socket.io over a websocket on api.localhost.
    const socket = io(`http://127.0.0.1:${proxyPort}`, {
      transports: ['websocket'],
      extraHeaders: { host: 'api.localhost' },
      auth: { token },
      reconnection: false,
    });
    const lines: string[] = [];
    socket.on('log', (event: { message: string }) => lines.push(event.message));
    const finalStatus = new Promise<string>((resolve) =>
      socket.on('status', (e: { status: string }) => ['READY', 'ERROR', 'CANCELED'].includes(e.status) && resolve(e.status)),
    );
    const ack = await socket.timeout(10_000).emitWithAck('subscribe', { deploymentId, afterSeq: 0 });
    expect(ack.ok).toBe(true);

    const done = await waitForDeployment(apiBase, deploymentId);
    expect(done.status).toBe('READY');
    expect(await finalStatus).toBe('READY');
    expect(lines).toContain('copied src to dist');
    socket.close();

    // The REST API through the same ingress.
    const viaIngress = await viaProxy(proxyPort, 'api.localhost', `/projects/${projectId}`, { authorization: `Bearer ${token}` });
    expect(viaIngress.status).toBe(200);
    expect(viaIngress.json.project.id).toBe(projectId);

    const from = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) expect((await viaProxy(proxyPort, 'ingress.localhost', '/')).status).toBe(200);
    expect((await viaProxy(proxyPort, 'ingress.localhost', '/app.css')).status).toBe(200);
    expect((await viaProxy(proxyPort, 'ingress.localhost', '/no/such/page')).status).toBe(404);

    // Request logs travel proxy → bus → consumer → ClickHouse; the endpoint reads them back.
    let analytics: any;
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const res = await http(apiBase, 'GET', `/projects/${projectId}/analytics?from=${from}&to=${Date.now() + 60_000}&bucket=1m`);
      expect(res.status).toBe(200);
      analytics = res.json.analytics;
      if (analytics.totals.requests >= 5) break;
      await sleep(200);
    }
    expect(analytics.totals.requests).toBe(5);
    expect(analytics.statusClasses['2xx']).toBe(4);
    expect(analytics.statusClasses['4xx']).toBe(1);
    expect(analytics.topPaths[0]).toMatchObject({ path: '/', requests: 3 });
    expect(analytics.totals.cacheHits).toBeGreaterThanOrEqual(2);
    expect(analytics.totals.cacheHitRatio).toBeGreaterThan(0);
    expect(analytics.series.reduce((n: number, b: { requests: number }) => n + b.requests, 0)).toBe(5);
    expect(analytics.totals.bytes).toBe(analytics.series.reduce((n: number, b: { bytes: number }) => n + b.bytes, 0));

    // Bad queries are 400s that name the parameter; unknown projects 404.
    expect((await http(apiBase, 'GET', `/projects/${projectId}/analytics?from=yesterday`)).json.error.message).toMatch(/from/);
    expect((await http(apiBase, 'GET', `/projects/${projectId}/analytics?bucket=2m`)).status).toBe(400);
    expect((await http(apiBase, 'GET', `/projects/${projectId}/analytics?from=2000&to=1000`)).status).toBe(400);
    expect((await http(apiBase, 'GET', `/projects/${projectId}/analytics?from=0&to=${Date.now()}&bucket=1m`)).status).toBe(400);
    expect((await http(apiBase, 'GET', `/projects/prj_nope/analytics`)).status).toBe(404);

    // The api-server goes away: deployed sites keep serving, even after the route TTL passed.
    await api.close();
    apiStopped = true;
    await sleep(500);
    const home = await viaProxy(proxyPort, 'ingress.localhost', '/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('Vanilla fixture home');
    expect((await viaProxy(proxyPort, new URL(done.url).hostname, '/app.css')).status).toBe(200);
    expect((await viaProxy(proxyPort, 'api.localhost', '/projects')).status).toBe(502);
  });
});
