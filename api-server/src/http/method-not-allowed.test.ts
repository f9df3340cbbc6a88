import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiTokenBodySchema, createDeploymentBodySchema, redeployBodySchema, updateProjectBodySchema } from '@platform/contracts';
import { createLogger } from '@platform/logger';
import { errorHandler, HttpError, parseBody } from './errors.ts';
import { methodNotAllowed, pathsOf } from './method-not-allowed.ts';
import { openApiDocument, UNDOCUMENTED_PATHS } from './openapi.ts';

const badBody = (schema: Parameters<typeof parseBody>[0], body: unknown): HttpError => {
  try {
    parseBody(schema, body);
  } catch (err) {
    return err as HttpError;
  }
  throw new Error('parseBody accepted the body');
};

describe('parseBody', () => {
  it('refuses a 101-character token name with a 400 naming the field', () => {
    const err = badBody(createApiTokenBodySchema, { name: `${'x'.repeat(100)} ` });
    expect(err).toMatchObject({ status: 400, code: 'invalid_body', message: expect.stringContaining('name: must have 1 to 100 characters') });
    expect(err.details).toEqual({ issues: [{ field: 'name', message: 'must have 1 to 100 characters' }] });
  });

  it('refuses a ref with a control character, naming ref', () => {
    const err = badBody(createDeploymentBodySchema, { projectId: 'prj_1', ref: 'main\u0007' });
    expect(err).toMatchObject({ status: 400, message: expect.stringMatching(/^invalid request body: ref: must be a git branch or tag name/) });
  });

  it('answers a missing required body (PATCH /projects/:id) with 400; an optional one (redeploy) gets its default', () => {
    expect(badBody(updateProjectBodySchema, undefined)).toMatchObject({ status: 400, message: expect.stringContaining('a JSON body is required') });
    expect(parseBody(redeployBodySchema, undefined)).toEqual({ useBuildCache: true });
  });

  it('drops unknown fields, whatever they hold, and refuses NUL in known ones', () => {
    expect(parseBody(createApiTokenBodySchema, { name: 'ci', 'junk\u0000': 'x\u0000' })).toEqual({ name: 'ci' });
    expect(badBody(createApiTokenBodySchema, { name: 'c\u0000i' })).toMatchObject({ status: 400, message: expect.stringContaining('name') });
  });
});

describe('the OpenAPI document', () => {
  const doc = openApiDocument({ localGitRoots: [] }) as any;

  it('documents the logs query and page, and which bodies are required', () => {
    const logs = doc.paths['/deployments/{deploymentId}/logs'].get;
    expect(logs.parameters.map((p: { name: string }) => p.name)).toEqual(['deploymentId', 'afterSeq', 'limit', 'q', 'format']);
    expect(logs.parameters.find((p: { name: string }) => p.name === 'limit').schema).toEqual({ type: 'integer', minimum: 1, maximum: 100_000 });
    expect(Object.keys(logs.responses['200'].content['application/json'].schema.properties)).toEqual([
      'deploymentId',
      'status',
      'lines',
      'hasMore',
      'nextAfterSeq',
    ]);
    expect(doc.paths['/projects/{projectId}'].patch.requestBody.required).toBe(true);
    expect(doc.paths['/deployments/{deploymentId}/redeploy'].post.requestBody.required).toBe(false);
    expect(doc.paths['/deployments/{deploymentId}/cancel'].post.requestBody.required).toBe(false);
    expect(doc.paths['/auth/tokens'].post.requestBody.content['application/json'].schema.properties.name.maxLength).toBe(100);
  });

  it('lists every error status with the error shape, and no catch-all', () => {
    const login = doc.paths['/auth/login'].post.responses;
    expect(Object.keys(login).sort()).toEqual(['200', '400', '401', '413', '429']);
    expect(login['429'].content['application/json'].schema.properties.error.required).toEqual(['code', 'message']);
    expect(Object.keys(doc.paths['/projects/{projectId}'].delete.responses).sort()).toEqual(['204', '400', '401', '404']);
    for (const ops of Object.values<Record<string, any>>(doc.paths)) for (const op of Object.values(ops)) expect(op.responses['4XX']).toBeUndefined();
  });
});

describe('methodNotAllowed', () => {
  let base: string;
  let close: () => void;
  beforeAll(async () => {
    const app = express();
    app.use(methodNotAllowed([...pathsOf(openApiDocument({ localGitRoots: [] })), ...UNDOCUMENTED_PATHS]));
    app.get('/projects/:id', (_req, res) => {
      res.json({ ok: true });
    });
    app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`)));
    app.use(errorHandler(createLogger({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it('answers an unsupported method on a known path with 405 and Allow, before anything else', async () => {
    const res = await fetch(`${base}/projects/prj_1`, { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PATCH, DELETE, HEAD');
    expect(await res.json()).toEqual({
      error: { code: 'method_not_allowed', message: 'PUT is not allowed on /projects/prj_1; allowed: GET, PATCH, DELETE, HEAD' },
    });
    const trace = await fetch(`${base}/deploy`, { method: 'DELETE' });
    expect([trace.status, trace.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await fetch(`${base}/deployments/d1/logs.txt`, { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD');
  });

  it('lets allowed methods and unknown paths through, and answers OPTIONS with Allow', async () => {
    expect((await fetch(`${base}/projects/prj_1`)).status).toBe(200);
    expect((await fetch(`${base}/no/such/path`, { method: 'PUT' })).status).toBe(404);
    const options = await fetch(`${base}/projects`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'POST, GET, HEAD']);
  });
});
