import { Router } from 'express';
import { createDomainBodySchema } from '@platform/contracts';
import { parseBody } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { DomainsService } from './domains-service.ts';
import { presentDomain } from './presenters.ts';

/** `/projects/:projectId/domains`: behind the project-owner guard, so another account gets 404. */
export function domainRoutes(deps: { domains: DomainsService; cnameTarget: string }): Router {
  const router = Router();
  const { domains, cnameTarget } = deps;
  const present = (row: Parameters<typeof presentDomain>[0]) => presentDomain(row, cnameTarget);

  router.post('/projects/:projectId/domains', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(createDomainBodySchema, req.body);
    res.status(201).json({ domain: present(await domains.add(project.id, body)) });
  });

  router.get('/projects/:projectId/domains', async (_req, res) => {
    res.json({ domains: (await domains.list(ownedProject(res).id)).map(present) });
  });

  router.get('/projects/:projectId/domains/:hostname', async (req, res) => {
    res.json({ domain: present(await domains.get(ownedProject(res).id, String(req.params.hostname).toLowerCase())) });
  });

  router.post('/projects/:projectId/domains/:hostname/verify', async (req, res) => {
    res.status(202).json({ domain: present(await domains.retry(ownedProject(res).id, String(req.params.hostname).toLowerCase())) });
  });

  router.delete('/projects/:projectId/domains/:hostname', async (req, res) => {
    await domains.remove(ownedProject(res).id, String(req.params.hostname).toLowerCase());
    res.status(204).end();
  });

  return router;
}
