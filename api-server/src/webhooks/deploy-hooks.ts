import { Router } from 'express';
import { createDeployHookBodySchema, randomId, type DeployHook } from '@platform/contracts';
import type { Db } from '@platform/db';
import { randomSecret, sha256Hex } from '../crypto/tokens.ts';
import { HttpError, notFound, parseBody } from '../errors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { ownedProject } from '../projects/access.ts';
import type { Deployer } from '../projects/deployer.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';

interface DeployHookRow {
  id: string;
  project_id: string;
  name: string;
  branch: string;
  token_hash: string;
  created_at: Date;
}

const present = (row: DeployHookRow): DeployHook => ({ id: row.id, name: row.name, branch: row.branch, createdAt: new Date(row.created_at).toISOString() });

/**
 * Deploy hooks: a secret URL (`POST /deploy-hooks/<secret>`) that deploys one branch of a
 * project, for CMSs and cron jobs. Only a SHA-256 of the secret is stored; the URL is shown once.
 */
export class DeployHooks {
  constructor(private readonly deps: { db: Db; deployer: Deployer; limiter: RateLimiter }) {}

  receiver(): Router {
    const router = Router();
    router.post('/deploy-hooks/:secret', this.deps.limiter.middleware('deploy hook'), async (req, res) => {
      const secret = String(req.params.secret);
      const rows = secret.length <= 128
        ? await this.deps.db.query<DeployHookRow & { project: ProjectRow }>(
            `SELECT h.*, to_jsonb(p.*) AS project FROM deploy_hooks h JOIN projects p ON p.id = h.project_id WHERE h.token_hash = $1`,
            [sha256Hex(secret)],
          )
        : [];
      const hook = rows[0];
      if (!hook) throw new HttpError(404, 'not_found', 'deploy hook not found');
      const deployment = await this.deps.deployer.deploy(hook.project, { ref: hook.branch });
      // The caller holds only the hook's URL: tell it what started, nothing more.
      res.status(202).json({ job: { deploymentId: deployment.id, projectId: hook.project_id, ref: hook.branch, state: deployment.status } });
    });
    return router;
  }

  ownerRoutes(): Router {
    const router = Router();
    router.post('/projects/:projectId/deploy-hooks', async (req, res) => {
      const project = ownedProject(res);
      const body = parseBody(createDeployHookBodySchema, req.body);
      const secret = randomSecret('dh');
      const rows = await this.deps.db.query<DeployHookRow>(
        `INSERT INTO deploy_hooks (id, project_id, name, branch, token_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [`hook_${randomId(16)}`, project.id, body.name, body.branch, sha256Hex(secret)],
      );
      res.status(201).json({ hook: present(rows[0]!), url: `/deploy-hooks/${secret}` });
    });
    router.get('/projects/:projectId/deploy-hooks', async (_req, res) => {
      const rows = await this.deps.db.query<DeployHookRow>('SELECT * FROM deploy_hooks WHERE project_id = $1 ORDER BY created_at, id', [ownedProject(res).id]);
      res.json({ hooks: rows.map(present) });
    });
    router.delete('/projects/:projectId/deploy-hooks/:hookId', async (req, res) => {
      const rows = await this.deps.db.query('DELETE FROM deploy_hooks WHERE project_id = $1 AND id = $2 RETURNING id', [ownedProject(res).id, String(req.params.hookId)]);
      if (rows.length === 0) throw notFound('deploy hook');
      res.status(204).end();
    });
    return router;
  }
}
