import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@platform/logger';
import { errorHandler, unknownRoute } from '../http/errors.ts';
import { dashboardRoutes } from './dashboard.ts';

describe('dashboard routes', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const app = express();
    app.use(dashboardRoutes());
    app.use(unknownRoute);
    app.use(errorHandler(createLogger({ level: 'silent' })));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = (path: string) => fetch(base + path, { redirect: 'manual' });

  it('redirects the root to the dashboard', async () => {
    expect((await get('/')).headers.get('location')).toBe('/dashboard/');
    expect((await get('/dashboard')).headers.get('location')).toBe('/dashboard/');
  });

  it('answers every client-side route with the page, under a strict CSP', async () => {
    for (const path of ['/dashboard/', '/dashboard/projects/prj_1', '/dashboard/deployments/abc']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('<script type="module" src="/dashboard/app.js">');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('serves the assets and the socket.io client as JavaScript modules', async () => {
    for (const path of ['/dashboard/app.js', '/dashboard/pages/deployment.js', '/dashboard/vendor/socket.io.esm.min.js']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    }
    expect((await get('/dashboard/style.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('serves nothing else: server code, type declarations, tests and paths outside the folder are 404', async () => {
    for (const path of [
      '/dashboard/dashboard.ts',
      '/dashboard/ansi.d.ts',
      '/dashboard/ansi.test.ts',
      '/dashboard/../dashboard.ts',
      '/dashboard/%2e%2e/dashboard.ts',
      '/dashboard/%2e%2e/%2e%2e/api-server.ts',
      '/dashboard/nope.js',
      '/dashboard/vendor/nope.js',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('import ');
    }
  });
});
