import { Router } from 'express';
import { createEnvVarBodySchema, updateEnvVarBodySchema, type EnvVar } from '@platform/contracts';
import { HttpError, notFound, parseBody } from '../errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { EnvVarRow, EnvVarsRepo } from './env-vars-repo.ts';

export const presentEnvVar = (row: EnvVarRow): EnvVar => ({
  id: row.id,
  key: row.key,
  target: row.target,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});

/** `/projects/:projectId/env`: behind the project-owner guard. Values go in, never out. */
export function envVarRoutes(deps: { envVars: EnvVarsRepo }): Router {
  const router = Router();
  const { envVars } = deps;

  router.post('/projects/:projectId/env', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(createEnvVarBodySchema, req.body);
    const rows = await envVars.create(project.id, body.key, body.value, body.targets);
    if (!rows) throw new HttpError(409, 'env_var_exists', `${body.key} already exists for one of these targets; PATCH it to change its value`);
    res.status(201).json({ envVars: rows.map(presentEnvVar) });
  });

  router.get('/projects/:projectId/env', async (_req, res) => {
    res.json({ envVars: (await envVars.list(ownedProject(res).id)).map(presentEnvVar) });
  });

  router.patch('/projects/:projectId/env/:envId', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(updateEnvVarBodySchema, req.body);
    const row = await envVars.get(project.id, String(req.params.envId));
    if (!row) throw notFound('env var');
    const updated = await envVars.updateValue(row, body.value);
    if (!updated) throw notFound('env var');
    res.json({ envVar: presentEnvVar(updated) });
  });

  router.delete('/projects/:projectId/env/:envId', async (req, res) => {
    if (!(await envVars.delete(ownedProject(res).id, String(req.params.envId)))) throw notFound('env var');
    res.status(204).end();
  });

  return router;
}
