import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildEventEmitter } from '@platform/build-server';
import { createInProcessEventBus, type EventBus } from '@platform/event-bus';
import { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import { range } from '@platform/testing/log-client';
import { startLiveHarness, type LiveHarness } from '@platform/testing/platform';

// One finished build, shared by every test of the file (its reads change nothing).
let bus: EventBus;
let h: LiveHarness;
let api: string;
let finished: string;
beforeAll(async () => {
  bus = createInProcessEventBus();
  h = await startLiveHarness({ bus });
  api = h.replicas[0]!.url;
  const ids = await h.createDeployment();
  finished = ids.deploymentId;
  const emitter = new BuildEventEmitter(bus, ids);
  await emitter.status('BUILDING');
  // 2,500 lines: seq 2..2501; every 100th mentions a warning, in mixed case.
  for (let i = 1; i <= 2_500; i++) emitter.log(i % 100 === 0 ? 'stderr' : 'stdout', i % 100 === 0 ? `Warning ${i}: peer dep` : `step ${i}`);
  await emitter.status('READY');
  const deployments = new DeploymentsRepo(h.db);
  for (let until = Date.now() + 30_000; (await deployments.get(finished))?.status !== 'READY'; await sleep(20)) {
    if (Date.now() > until) throw new Error('the build events were not consumed');
  }
});
afterAll(async () => {
  await h?.close();
  await bus?.close();
});

const get = async (path: string) => {
  const res = await fetch(api + path, { headers: { authorization: `Bearer ${h.token}` } });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
};

describe('GET /deployments/:id/logs', () => {
  it('pages through the log by seq until nextAfterSeq is null', async () => {
    const seqs: number[] = [];
    let afterSeq: number | null = 0;
    let pages = 0;
    while (afterSeq !== null) {
      const page = await get(`/deployments/${finished}/logs?afterSeq=${afterSeq}&limit=1000`);
      expect(page.status).toBe(200);
      expect(page.json.status).toBe('READY');
      seqs.push(...page.json.lines.map((l: { seq: number }) => l.seq));
      afterSeq = page.json.nextAfterSeq;
      pages++;
    }
    expect(seqs).toEqual(range(2, 2_501));
    expect(pages).toBe(3);
  });

  it('keeps a still-building log open: nextAfterSeq stays a number', async () => {
    const ids = await h.createDeployment();
    const emitter = new BuildEventEmitter(bus, ids);
    await emitter.status('BUILDING');
    emitter.log('stdout', 'first line');
    await emitter.flush();
    for (let until = Date.now() + 10_000; ; await sleep(20)) {
      const page = await get(`/deployments/${ids.deploymentId}/logs`);
      if (page.json.lines.length === 1) {
        expect(page.json).toMatchObject({ status: 'BUILDING', hasMore: false, nextAfterSeq: 2 });
        break;
      }
      if (Date.now() > until) throw new Error('the line never arrived');
    }
  });

  it('finds lines by text, ignoring case, and pages through the matches', async () => {
    const all = await get(`/deployments/${finished}/logs?q=WARNING`);
    expect(all.json.lines).toHaveLength(25);
    expect(all.json.lines[0]).toMatchObject({ seq: 101, stream: 'stderr', message: 'Warning 100: peer dep' });
    const next = await get(`/deployments/${finished}/logs?q=warning&afterSeq=${all.json.lines[9].seq}&limit=5`);
    expect(next.json.lines.map((l: { message: string }) => l.message)).toEqual([1_100, 1_200, 1_300, 1_400, 1_500].map((i) => `Warning ${i}: peer dep`));
    expect(next.json.hasMore).toBe(true);
    // Search text is data, never SQL.
    expect((await get(`/deployments/${finished}/logs?q=${encodeURIComponent("' OR 1=1 --")}`)).json.lines).toEqual([]);
  });
});

describe('GET /deployments/:id/logs as text, and its errors', () => {
  it('downloads the log as plain text, one line per log line', async () => {
    for (const path of [`/deployments/${finished}/logs?format=text`, `/deployments/${finished}/logs.txt`]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${finished}.log"`);
      const lines = res.text.trimEnd().split('\n');
      expect(lines).toHaveLength(2_500);
      expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout step 1$/);
      expect(lines[99]).toMatch(/ stderr Warning 100: peer dep$/);
    }
    const filtered = await get(`/deployments/${finished}/logs.txt?q=warning&afterSeq=2000`);
    expect(filtered.text.trimEnd().split('\n')).toHaveLength(6);
  });

  it('answers bad parameters with 400 naming the parameter, and an unknown deployment with 404', async () => {
    for (const [query, name] of [
      ['afterSeq=-1', 'afterSeq'],
      ['afterSeq=abc', 'afterSeq'],
      ['limit=0', 'limit'],
      ['limit=100001', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['format=xml', 'format'],
      [`q=${'x'.repeat(300)}`, 'q'],
    ] as const) {
      const res = await get(`/deployments/${finished}/logs?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'invalid_query', message: expect.stringContaining(name) });
    }
    const missing = await get('/deployments/nope/logs.txt');
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toBe('deployment not found');
  });
});
