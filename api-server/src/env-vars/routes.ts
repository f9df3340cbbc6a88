import { Router } from 'express';
import { createEnvVarBodySchema, updateEnvVarBodySchema } from '@platform/contracts';
import { parseBody } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { EnvVarsService } from './env-vars-service.ts';
import { presentEnvVar } from './presenters.ts';

/** `/projects/:projectId/env`: behind the project-owner guard. Values go in, never out. */
export function envVarRoutes(deps: { envVars: EnvVarsService }): Router {
  const router = Router();
  const { envVars } = deps;

  router.post('/projects/:projectId/env', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(createEnvVarBodySchema, req.body);
    const rows = await envVars.create(project.id, body.key, body.value, body.targets);
    res.status(201).json({ envVars: rows.map(presentEnvVar) });
  });

  router.get('/projects/:projectId/env', async (_req, res) => {
    res.json({ envVars: (await envVars.list(ownedProject(res).id)).map(presentEnvVar) });
  });

  router.patch('/projects/:projectId/env/:envId', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(updateEnvVarBodySchema, req.body);
    res.json({ envVar: presentEnvVar(await envVars.updateValue(project.id, String(req.params.envId), body.value)) });
  });

  router.delete('/projects/:projectId/env/:envId', async (req, res) => {
    await envVars.delete(ownedProject(res).id, String(req.params.envId));
    res.status(204).end();
  });

  return router;
}
