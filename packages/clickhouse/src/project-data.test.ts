import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse } from './client.ts';
import { createLogStore } from './log-store.ts';
import { migrateClickHouse } from './migrations.ts';
import { createProjectDataStore } from './project-data.ts';
import { createRequestLogStore } from './request-log-store.ts';

// On the ClickHouse engine in process: what a project holds is measured, and deleting one
// project's rows (or one deployment's) leaves every other project's alone.
describe('project data in ClickHouse (chDB)', () => {
  const client = createClickHouse({ driver: 'chdb', path: join(mkdtempSync(join(tmpdir(), 'chdb-project-data-')), 'chdb') });
  afterAll(() => client.close());

  it('measures log bytes and deletes one deployment’s logs, then one project’s logs and request logs', async () => {
    await migrateClickHouse(client);
    const logs = createLogStore(client);
    const requests = createRequestLogStore(client);
    const data = createProjectDataStore(client);
    const line = (deploymentId: string, projectId: string, seq: number) => ({
      type: 'log' as const,
      deploymentId,
      projectId,
      seq,
      ts: Date.now(),
      stream: 'stdout' as const,
      message: 'x'.repeat(100),
    });
    await logs.insert([line('d1', 'p1', 1), line('d1', 'p1', 2), line('d2', 'p1', 1), line('d3', 'p2', 1)]);
    const request = (id: string, projectId: string) => ({
      id,
      ts: Date.now(),
      projectId,
      deploymentId: 'd',
      host: 'h',
      method: 'GET',
      path: '/',
      status: 200,
      bytes: 1,
      durationMs: 1,
      cache: 'HIT' as const,
    });
    await requests.insert([request('r1', 'p1'), request('r2', 'p2')]);

    expect(await data.logBytes('p1')).toBe(3 * 132);
    expect(await data.logBytes('p2')).toBe(132);
    await data.deleteDeploymentLogs(['d1']);
    expect(await logs.read('d1')).toEqual([]);
    expect(await logs.read('d2')).toHaveLength(1);

    await data.deleteProject('p1');
    expect(await data.logBytes('p1')).toBe(0);
    expect(await logs.read('d3')).toHaveLength(1);
    const count = async (projectId: string) =>
      Number(
        (
          await (
            await client.query({
              query: 'SELECT count() AS n FROM request_logs WHERE project_id = {p:String}',
              query_params: { p: projectId },
              format: 'JSONEachRow',
            })
          ).json<{ n: string }>()
        )[0]!.n,
      );
    expect(await count('p1')).toBe(0);
    expect(await count('p2')).toBe(1);
  });
});
