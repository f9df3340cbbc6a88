import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentKey } from '@platform/contracts';
import { createProject, http, waitForDeployment } from '@platform/testing/http';
import { startEmbeddedPlatform, type TestPlatform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** POST one content as raw bytes, as the CLI does. */
async function upload(api: string, token: string, projectId: string, hash: string, body: Buffer, path = 'index.html') {
  const res = await fetch(`${api}/projects/${projectId}/uploads/${hash}?path=${encodeURIComponent(path)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body,
  });
  return { status: res.status, json: (await res.json()) as { hash?: string; stored?: boolean; error?: { code: string; message: string } } };
}

describe('direct uploads API', () => {
  let platform: TestPlatform;
  let projectId: string;
  let slug: string;
  const page = Buffer.from(`<!doctype html><h1>uploaded</h1>${'<p>text</p>'.repeat(200)}`);
  beforeAll(async () => {
    platform = await startEmbeddedPlatform({ UPLOAD_MAX_FILE_BYTES: '100000', UPLOAD_MAX_FILES: '50' });
    const project = await createProject(platform.api, { name: 'Uploads', gitUrl: 'https://git.example.com/uploads.git' });
    projectId = project.id;
    slug = project.slug;
  });
  afterAll(() => platform?.close());

  it('answers which contents are missing, stores one checked against its hash, and deploys a manifest with vercel.json routing', async () => {
    const config = Buffer.from(JSON.stringify({ cleanUrls: true, redirects: [{ source: '/old', destination: '/', permanent: false }] }));
    const files = [
      { hash: sha(page), size: page.length },
      { hash: sha(config), size: config.length },
    ];
    const missing = await http(platform.api, 'POST', `/projects/${projectId}/uploads/missing`, { files });
    expect(missing.status).toBe(200);
    expect(missing.json.missing.sort()).toEqual(files.map((f) => f.hash).sort());
    expect((await upload(platform.api, platform.token, projectId, sha(page), page)).json).toMatchObject({ stored: true });
    expect((await upload(platform.api, platform.token, projectId, sha(config), config, 'vercel.json')).status).toBe(201);
    // A second upload of the same content writes nothing.
    expect((await upload(platform.api, platform.token, projectId, sha(page), page)).status).toBe(200);
    expect((await http(platform.api, 'POST', `/projects/${projectId}/uploads/missing`, { files })).json.missing).toEqual([]);

    const created = await http(platform.api, 'POST', `/projects/${projectId}/deployments/upload`, {
      files: [
        { path: 'index.html', ...files[0] },
        { path: 'vercel.json', ...files[1] },
      ],
      target: 'production',
    });
    expect(created.status).toBe(202);
    const done = await waitForDeployment(platform.api, created.json.deployment.id);
    expect(done.status).toBe('READY');
    const home = await viaProxy(platform.proxyPort, `${slug}.localhost`, '/', { 'accept-encoding': 'br' });
    expect(home.status).toBe(200);
    expect(home.headers.get('content-encoding')).toBe('br');
    expect((await viaProxy(platform.proxyPort, `${slug}.localhost`, '/old')).status).toBe(307);
    expect((await viaProxy(platform.proxyPort, `${slug}.localhost`, '/vercel.json')).status).toBe(404);
    const logs = await http(platform.api, 'GET', `/deployments/${done.id}/logs`);
    expect(logs.json.lines.map((l: { message: string }) => l.message).join('\n')).toContain('Deployed 1 uploaded files');
  });

  it('refuses bytes that are not the content their hash names, storing nothing (409)', async () => {
    const real = Buffer.from('<h1>the real bytes</h1>');
    const forged = Buffer.from('<h1>forged bytes!!</h1>');
    const res = await upload(platform.api, platform.token, projectId, sha(real), forged);
    expect(res.status).toBe(409);
    expect(res.json.error?.code).toBe('content_hash_mismatch');
    expect(await platform.deps.store.getBuffer(contentKey(projectId, sha(real)))).toBeNull();
    expect((await upload(platform.api, platform.token, projectId, 'not-a-hash', real)).status).toBe(400);
  });

  it('an upload under a hash another deployment serves cannot change what it serves', async () => {
    // The served page's hash again, with other bytes: refused; with the same bytes: a no-op.
    const forged = Buffer.alloc(page.length, 0x41);
    expect((await upload(platform.api, platform.token, projectId, sha(page), forged)).status).toBe(409);
    expect((await platform.deps.store.getBuffer(contentKey(projectId, sha(page))))!.equals(page)).toBe(true);
    const home = await viaProxy(platform.proxyPort, `${slug}.localhost`, '/', { 'accept-encoding': 'identity' });
    expect(home.body.equals(page)).toBe(true);
  });

  it('keeps another account out of the project: no check, no upload, no deployment (404)', async () => {
    const other = await platform.signup('intruder@example.test');
    const auth = { authorization: `Bearer ${other.token}` };
    const files = [{ hash: sha(page), size: page.length }];
    expect((await http(platform.api, 'POST', `/projects/${projectId}/uploads/missing`, { files }, auth)).status).toBe(404);
    expect((await upload(platform.api, other.token, projectId, sha(page), page)).status).toBe(404);
    const deployAttempt = await http(platform.api, 'POST', `/projects/${projectId}/deployments/upload`, { files: [{ path: 'index.html', ...files[0] }] }, auth);
    expect(deployAttempt.status).toBe(404);
    // Their own project cannot name content they never uploaded (the namespaces are per project).
    const theirs = await createProject(platform.api, { name: 'Intruder', gitUrl: 'https://git.example.com/x.git' }, auth);
    const borrowed = await http(platform.api, 'POST', `/projects/${theirs.id}/deployments/upload`, { files: [{ path: 'index.html', ...files[0] }] }, auth);
    expect(borrowed.status).toBe(409);
    expect(borrowed.json.error.code).toBe('missing_contents');
    expect((await http(platform.api, 'POST', `/projects/${theirs.id}/uploads/missing`, { files }, auth)).json.missing).toEqual([sha(page)]);
  });

  it('answers bad manifests with a 4xx naming the problem', async () => {
    const entry = { hash: sha(page), size: page.length };
    const post = (body: unknown) => http(platform.api, 'POST', `/projects/${projectId}/deployments/upload`, body);
    for (const path of ['../escape.html', 'a/./b', 'a//b', '/abs', 'a\\b', '.', 'dir/']) {
      expect((await post({ files: [{ path, ...entry }] })).status, path).toBe(400);
    }
    expect((await post({ files: [] })).status).toBe(400);
    const never = { path: 'a.html', hash: sha(Buffer.from('never uploaded')), size: 14 };
    expect((await post({ files: [never] })).json.error.code).toBe('missing_contents');
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ path: `f${i}.html`, ...entry }));
    const refusedMany = await post({ files: tooMany });
    expect(refusedMany.status).toBe(413);
    expect(refusedMany.json.error.message).toContain('51 files, more than the limit of 50');
    expect((await upload(platform.api, platform.token, projectId, sha(Buffer.alloc(100_001)), Buffer.alloc(100_001))).status).toBe(413);

    const badConfig = Buffer.from('{"redirects": [{"source": "no-slash", "destination": "/"}]}');
    await upload(platform.api, platform.token, projectId, sha(badConfig), badConfig, 'vercel.json');
    const refused = await post({
      files: [
        { path: 'index.html', ...entry },
        { path: 'vercel.json', hash: sha(badConfig), size: badConfig.length },
      ],
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'invalid_vercel_json', message: expect.stringContaining('redirects[0].source') });
  });
});
