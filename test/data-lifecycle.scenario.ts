/**
 * The data lifecycle end to end, on whichever object store the settings name (the local
 * folder, or S3 on moto): retention over real route records and object listings, deleting
 * deployments (refused while an alias serves them), a promote racing a deletion, build
 * caches evicted least recently used, storage usage and its quota, and a project deletion
 * cut short by a store outage and a restart that the next replica finishes.
 * Builds run on the idle runner and are finished by the test (files, then events), so
 * retention sees many deployments in seconds.
 */
import { BUILD_EVENTS_TOPIC, randomId, branchSlug, buildCachePrefix, type Deployment, type Project } from '@platform/contracts';
import type { ObjectStore } from '@platform/object-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, http } from '@platform/testing/http';
import { idleBuild } from '@platform/testing/idle-builds';
import { startPlatform, type Platform } from '@platform/testing/platform';
import { viaProxy } from '@platform/testing/proxy';

const QUOTA_BYTES = 40_000;

export function describeDataLifecycle(label: string, env: () => Record<string, string>): void {
  describe(`data lifecycle (${label})`, () => {
    let platform: Platform;
    let api: string;
    const run = randomId(6);

    beforeAll(async () => {
      platform = await startPlatform({
        env: env(),
        runner: 'idle',
        api: {
          dataLifecycle: {
            // Passes run when the test asks (and once at start, and on a project deletion).
            intervalMs: 3_600_000,
            defaults: { keepPerBranch: 2, keepRollback: 1, failedAfterDays: 1, buildCacheCapBytes: 1_000 },
            storageQuotaBytes: QUOTA_BYTES,
            deletionSettleMs: 0,
            cacheFreshMs: 0,
          },
        },
      });
      api = platform.api;
      // A platform start takes seconds, or a minute on a busy two-core machine.
    }, 180_000);
    afterAll(() => platform?.close());

    const pass = () => platform.replicas.at(-1)!.api.runDataLifecyclePass();
    const store = (): ObjectStore => platform.deps.store;
    const filesOf = (id: string) => store().list(`deployments/${id}/`);
    const host = (url: string) => new URL(url).hostname;
    const branchHost = (project: Project, branch: string) => host(project.url).replace(`${project.slug}.`, `${project.slug}-git-${branchSlug(branch)}.`);
    const serves = async (hostname: string, deploymentId: string) => {
      const res = await viaProxy(platform.proxyPort!, hostname, '/');
      return res.status === 200 && res.text.includes(deploymentId);
    };
    const newProject = (name: string) => createProject(api, { name: `${name} ${run}`, gitUrl: 'https://git.example.com/site.git', productionBranch: 'main' });

    it('keeps what retention promises, deletes the rest, and refuses to delete what an alias serves', async () => {
      const project = await newProject('retention');
      const main: Deployment[] = [];
      for (let i = 0; i < 4; i++) main.push(await idleBuild(platform, project.id, { ref: 'main' }));
      const feature: Deployment[] = [];
      for (let i = 0; i < 3; i++) feature.push(await idleBuild(platform, project.id, { ref: 'feature' }));
      const oldFailure = await idleBuild(platform, project.id, { ref: 'main', outcome: 'ERROR' });
      const newFailure = await idleBuild(platform, project.id, { ref: 'main', outcome: 'ERROR' });
      await platform.db.query(`UPDATE deployments SET finished_at = now() - interval '2 days' WHERE id = $1`, [oldFailure.id]);
      // Roll production back to the first deployment: it must survive although it is the oldest.
      expect((await http(api, 'POST', `/deployments/${main[0]!.id}/promote`)).status).toBe(200);

      await pass();

      // Kept: production's (main[0]), main's newest two, feature's newest two, the recent failure.
      const kept = [main[0]!, main[2]!, main[3]!, feature[1]!, feature[2]!];
      const deleted = [main[1]!, feature[0]!, oldFailure];
      for (const d of kept) expect(await filesOf(d.id), d.id).not.toEqual([]);
      for (const d of deleted) expect(await filesOf(d.id), d.id).toEqual([]);
      const listed = (await http(api, 'GET', `/projects/${project.id}/deployments?limit=50`)).json.deployments.map((d: Deployment) => d.id);
      expect(new Set(listed)).toEqual(new Set([...kept, newFailure].map((d) => d.id)));
      for (const d of deleted) expect((await http(api, 'GET', `/deployments/${d.id}`)).status).toBe(404);

      // Every served hostname still serves; a deleted deployment's own hostname does not.
      await expect.poll(() => serves(host(project.url), main[0]!.id)).toBe(true);
      expect(await serves(branchHost(project, 'feature'), feature[2]!.id)).toBe(true);
      for (const d of kept) expect(await serves(host(d.url), d.id), d.id).toBe(true);
      await expect.poll(async () => (await viaProxy(platform.proxyPort!, host(main[1]!.url), '/')).status).toBe(404);

      // The aliases' deployments cannot be deleted; the answer names the hostname.
      const refused = await http(api, 'DELETE', `/deployments/${main[0]!.id}`);
      expect(refused.status).toBe(409);
      expect(refused.json.error.code).toBe('deployment_served');
      expect(refused.json.error.message).toContain(host(project.url));
      expect((await http(api, 'DELETE', `/deployments/${feature[2]!.id}`)).status).toBe(409);
      expect(await filesOf(main[0]!.id)).not.toEqual([]);

      // Any other goes at once: files, own hostname, row.
      expect((await http(api, 'DELETE', `/deployments/${main[2]!.id}`)).status).toBe(204);
      expect(await filesOf(main[2]!.id)).toEqual([]);
      expect((await http(api, 'GET', `/deployments/${main[2]!.id}`)).status).toBe(404);
      expect(await serves(host(project.url), main[0]!.id)).toBe(true);
    });

    it('loses nothing of a build that is uploading while a pass runs', async () => {
      const project = await newProject('uploading');
      for (let i = 0; i < 3; i++) await idleBuild(platform, project.id, { ref: 'main' });
      // A fourth build is mid-upload: half its files are there, no manifest yet, still BUILDING.
      const { deployment } = (await http(api, 'POST', '/deploy', { projectId: project.id, ref: 'main' })).json;
      await expect
        .poll(async () => (await platform.db.query<{ task_id: string | null }>('SELECT task_id FROM deployments WHERE id = $1', [deployment.id]))[0]?.task_id)
        .toBeTruthy();
      await platform.deps.bus.publish(BUILD_EVENTS_TOPIC, [
        {
          key: deployment.id,
          value: JSON.stringify({ type: 'status', deploymentId: deployment.id, projectId: project.id, seq: 1, ts: Date.now(), status: 'BUILDING' }),
        },
      ]);
      await expect.poll(async () => (await http(api, 'GET', `/deployments/${deployment.id}`)).json.deployment.status).toBe('BUILDING');
      await store().put(`deployments/${deployment.id}/assets/a.js`, 'a');
      await pass();
      expect(await filesOf(deployment.id)).toEqual([`deployments/${deployment.id}/assets/a.js`]);
      expect((await http(api, 'GET', `/deployments/${deployment.id}`)).json.deployment.status).toBe('BUILDING');
      // Retention did run: of the three READY ones the oldest went (2 kept per branch; the
      // rollback window's one is the second, kept already), the uploading build stayed.
      const listed = (await http(api, 'GET', `/projects/${project.id}/deployments`)).json.deployments.map((d: Deployment) => d.id);
      expect(listed).toHaveLength(3);
      expect(listed[0]).toBe(deployment.id);
    });

    it('fails a promote of a deployment being deleted cleanly, and never leaves production on a deleted one', async () => {
      const project = await newProject('promote race');
      const live = await idleBuild(platform, project.id, { ref: 'main' });
      const doomed = await idleBuild(platform, project.id, { ref: 'feature' });
      const other = await idleBuild(platform, project.id, { ref: 'feature' });
      await expect.poll(() => serves(host(project.url), live.id)).toBe(true);

      // A deletion in progress (marked, files going): the promote is refused, production unchanged.
      await platform.db.query('UPDATE deployments SET deleting_at = now() WHERE id = $1', [doomed.id]);
      const promote = await http(api, 'POST', `/deployments/${doomed.id}/promote`);
      expect(promote.status).toBe(409);
      expect(promote.json.error.code).toBe('deployment_deleting');
      expect(await serves(host(project.url), live.id)).toBe(true);
      // The worker finishes that deletion (as after a restart).
      await pass();
      expect(await filesOf(doomed.id)).toEqual([]);

      // Both at once: whichever wins, production serves a deployment that still has its files.
      const [promoted, deletedNow] = await Promise.all([
        http(api, 'POST', `/deployments/${other.id}/promote`),
        http(api, 'DELETE', `/deployments/${other.id}`),
      ]);
      expect([200, 409]).toContain(promoted.status);
      expect([204, 409]).toContain(deletedNow.status);
      expect(promoted.status === 200 && deletedNow.status === 204).toBe(false);
      const record = JSON.parse((await store().getBuffer(`routes/${host(project.url)}.json`))!.toString('utf8'));
      expect(await filesOf(record.deploymentId)).not.toEqual([]);
      await expect.poll(() => serves(host(project.url), record.deploymentId)).toBe(true);
    });

    it('evicts build caches least recently used under the cap, and reports storage in the API and /metrics', async () => {
      const project = await newProject('caches');
      await idleBuild(platform, project.id, { ref: 'main', files: { 'index.html': 'x'.repeat(2_000) } });
      const prefix = buildCachePrefix(project.id);
      // Written in this order, a second apart (S3 keeps whole seconds): old, then recent; then old is used.
      await store().put(`${prefix}deps-old.tar.gz`, Buffer.alloc(600, 1));
      await new Promise((r) => setTimeout(r, 1_100));
      await store().put(`${prefix}deps-recent.tar.gz`, Buffer.alloc(600, 2));
      await new Promise((r) => setTimeout(r, 1_100));
      await store().put(`${prefix}deps-old.tar.gz.used`, '');

      await pass();
      // The cap (1000 bytes) holds one: the one used last stays, with its marker.
      expect(await store().list(prefix)).toEqual([`${prefix}deps-old.tar.gz`, `${prefix}deps-old.tar.gz.used`]);

      const usage = (await http(api, 'GET', `/projects/${project.id}/usage`)).json.usage;
      expect(usage.deploymentsBytes).toBeGreaterThanOrEqual(2_000);
      expect(usage.buildCacheBytes).toBe(600);
      expect(usage.logBytes).toBeGreaterThan(0);
      expect(usage.totalBytes).toBe(usage.deploymentsBytes + usage.buildCacheBytes + usage.logBytes);
      expect(usage.quotaBytes).toBe(QUOTA_BYTES);
      const metrics = (await http(api, 'GET', '/metrics')).text;
      expect(metrics).toContain(`platform_project_storage_bytes{project="${project.slug}",kind="build_cache"} 600`);

      // A stranger sees none of it.
      const stranger = await platform.signup(`stranger-${run}@example.test`);
      expect((await http(api, 'GET', `/projects/${project.id}/usage`, undefined, { authorization: `Bearer ${stranger.token}` })).status).toBe(404);
      const main = (await http(api, 'GET', `/projects/${project.id}/deployments`)).json.deployments[0];
      expect((await http(api, 'DELETE', `/deployments/${main.id}`, undefined, { authorization: `Bearer ${stranger.token}` })).status).toBe(404);
      expect(await filesOf(main.id)).not.toEqual([]);
    });

    it('ends a build in ERROR with the reason once a project holds more than its quota; other projects keep building', async () => {
      const big = await newProject('quota');
      await idleBuild(platform, big.id, { ref: 'main', files: { 'big.bin': Buffer.alloc(QUOTA_BYTES + 1, 7) } });
      const refused = await http(api, 'POST', '/deploy', { projectId: big.id, ref: 'main' });
      let after: Deployment | undefined;
      await expect
        .poll(
          async () => {
            after = (await http(api, 'GET', `/deployments/${refused.json.deployment.id}`)).json.deployment;
            return after?.status;
          },
          { timeout: 30_000 },
        )
        .toBe('ERROR');
      expect(after!.errorMessage).toMatch(
        /storage quota exceeded: the project holds [\d.]+ KiB \(deployments 39\.\d KiB, build caches 0 bytes, logs \d+ bytes\), more than its 39\.1 KiB quota/,
      );
      expect(after!.errorMessage).toContain('STORAGE_QUOTA');
      const small = await newProject('under quota');
      expect((await idleBuild(platform, small.id, { ref: 'main' })).status).toBe('READY');
    });

    it('deletes a project in the background: a store outage and a restart later, nothing of it is left', async () => {
      const project = await newProject('doomed');
      const builds = [await idleBuild(platform, project.id, { ref: 'main' }), await idleBuild(platform, project.id, { ref: 'preview' })];
      expect((await http(api, 'POST', `/projects/${project.id}/env`, { key: 'SECRET_TOKEN', value: 'v', targets: ['production'] })).status).toBe(201);
      expect((await http(api, 'POST', `/projects/${project.id}/deploy-hooks`, { name: 'cms', branch: 'main' })).status).toBe(201);
      await store().put(`${buildCachePrefix(project.id)}deps-x.tar.gz`, 'cache');
      await expect.poll(() => serves(host(project.url), builds[0]!.id)).toBe(true);

      // The store refuses to delete deployment files (an outage) while the deletion runs.
      const realDelete = store().delete.bind(store());
      const failing = async (keys: readonly string[]) => {
        if (keys.some((k) => k.startsWith('deployments/'))) throw new Error('store unavailable (test outage)');
        return realDelete(keys);
      };
      (store() as { delete: ObjectStore['delete'] }).delete = failing;
      try {
        expect((await http(api, 'DELETE', `/projects/${project.id}`)).status).toBe(204);
        // Gone for its owner at once; its hostnames stop serving.
        expect((await http(api, 'GET', `/projects/${project.id}`)).status).toBe(404);
        expect((await http(api, 'GET', '/projects')).json.projects.map((p: Project) => p.id)).not.toContain(project.id);
        await expect.poll(async () => (await viaProxy(platform.proxyPort!, host(project.url), '/')).status).toBe(404);
        await pass();
        expect(await filesOf(builds[0]!.id)).not.toEqual([]);
      } finally {
        (store() as { delete: ObjectStore['delete'] }).delete = realDelete;
      }
      // The replica goes down before any retry; the next one finishes the job from the DB.
      await platform.replicas[0]!.api.close();
      const next = await platform.addReplica();
      await expect.poll(async () => (await platform.db.query('SELECT 1 FROM projects WHERE id = $1', [project.id])).length, { timeout: 30_000 }).toBe(0);
      for (const d of builds) expect(await filesOf(d.id)).toEqual([]);
      expect(await store().list(buildCachePrefix(project.id))).toEqual([]);
      for (const table of ['deployments', 'env_vars', 'deploy_hooks']) {
        expect((await platform.db.query(`SELECT 1 FROM ${table} WHERE project_id = $1`, [project.id])).length, table).toBe(0);
      }
      const logRows = await (
        await platform.clickhouse.query({
          query: 'SELECT count() AS n FROM log_events WHERE project_id = {p:String}',
          query_params: { p: project.id },
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>();
      expect(Number(logRows[0]!.n)).toBe(0);
      // The platform goes on: another project deploys and serves through the new replica.
      const after = await createProject(next.url, { name: `after ${run}`, gitUrl: 'https://git.example.com/site.git' });
      const d = await idleBuild(platform, after.id, { ref: 'main' }, next.url);
      await expect.poll(() => serves(host(d.url), d.id)).toBe(true);
    });
  });
}
