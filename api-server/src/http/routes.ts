import { Router, type Request } from 'express';
import {
  cancelDeploymentBodySchema,
  createDeploymentBodySchema,
  listDeploymentsQuerySchema,
  parseCommandLine,
  projectBodySchemas,
  redeployBodySchema,
  validateGitUrl,
  type UpdateProjectBody,
} from '@platform/contracts';
import type { LogStore } from '@platform/clickhouse';
import type { Db } from '@platform/db';
import type { Logger } from '@platform/logger';
import { currentUser } from '../auth/auth.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { randomSecret } from '../crypto/tokens.ts';
import type { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import type { RoutePublisher } from '../deployments/route-publisher.ts';
import type { Scheduler } from '../deployments/scheduler.ts';
import { HttpError, notFound, parseBody, parseQuery } from '../errors.ts';
import type { Notifier } from '../notifications/notifier.ts';
import { ownedDeployment, ownedProject } from '../projects/access.ts';
import type { Deployer } from '../projects/deployer.ts';
import { listProjectDeployments, projectDeploymentHosts } from '../projects/deployment-queries.ts';
import type { ProjectsRepo } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';
import { githubSecretContext } from '../webhooks/github.ts';
import { presentDeployment, presentProject } from './presenters.ts';

export interface RouteDeps {
  db: Db;
  projects: ProjectsRepo;
  deployments: DeploymentsRepo;
  scheduler: Scheduler;
  deployer: Deployer;
  routes: RoutePublisher;
  notifier: Notifier;
  logStore: LogStore;
  box: SecretBox;
  urls: Urls;
  localGitRoots: readonly string[];
  logger: Logger;
}

/**
 * Projects and deployments. Mounted after `requireUser` and the owner guards on
 * `/projects/:projectId` and `/deployments/:deploymentId`, so every handler here may assume
 * the caller owns what it touches.
 */
export function apiRoutes(deps: RouteDeps): Router {
  const router = Router();
  const { projects, deployments, urls } = deps;
  const projectBodies = projectBodySchemas({ localRoots: deps.localGitRoots });

  /** Checks what zod cannot: the git URL is safe to hand git, commands parse into argument arrays. */
  const validateSettings = (body: Pick<UpdateProjectBody, 'gitUrl' | 'installCommand' | 'buildCommand'>) => {
    if (body.gitUrl !== undefined) {
      try {
        validateGitUrl(body.gitUrl, { localRoots: deps.localGitRoots });
      } catch (err) {
        throw new HttpError(400, 'invalid_body', `invalid request body: gitUrl: ${(err as Error).message}`);
      }
    }
    for (const field of ['installCommand', 'buildCommand'] as const) {
      const line = body[field];
      if (line === undefined || line === null) continue;
      try {
        parseCommandLine(line);
      } catch (err) {
        throw new HttpError(400, 'invalid_body', `invalid request body: ${field}: ${(err as Error).message}`);
      }
    }
  };

  const createProject = async (req: Request, res: import('express').Response) => {
    const body = parseBody(projectBodies.create, req.body);
    validateSettings(body);
    const secret = randomSecret('ghs');
    const project = await projects.create(body, currentUser(res).id, {
      githubWebhookSecretEnc: (id) => deps.box.seal(secret, githubSecretContext(id)),
    });
    res.status(201).json({
      project: presentProject(project, urls),
      // Shown once: paste both into the repository's Settings → Webhooks (content type application/json).
      githubWebhook: { url: `/webhooks/github?projectId=${project.id}`, secret },
    });
  };
  router.post('/projects', createProject);
  // The original design's path, kept for its clients.
  router.post('/project', createProject);

  router.get('/projects', async (_req, res) => {
    const rows = await projects.listOwned(currentUser(res).id);
    res.json({ projects: rows.map((row) => presentProject(row, urls)) });
  });

  router.get('/projects/:projectId', async (_req, res) => {
    const project = ownedProject(res);
    const production = await deps.routes.current(urls.productionHost(project.slug));
    res.json({ project: { ...presentProject(project, urls), productionDeploymentId: production?.projectId === project.id ? production.deploymentId : null } });
  });

  router.patch('/projects/:projectId', async (req, res) => {
    const body = parseBody(projectBodies.update, req.body);
    validateSettings(body);
    const updated = await projects.update(ownedProject(res).id, body);
    if (!updated) throw notFound('project');
    res.json({ project: presentProject(updated, urls) });
  });

  router.delete('/projects/:projectId', async (_req, res) => {
    const project = ownedProject(res);
    // Stop its builds first, so none publishes a route after the routes are gone.
    for (const d of await listProjectDeployments(deps.db, project.id, { status: ['QUEUED', 'BUILDING'], limit: 100 })) {
      await deps.scheduler.cancel(d.id, 'the project was deleted');
    }
    const hosts = await projectDeploymentHosts(deps.db, project.id);
    await deps.routes.unpublishProject(project, hosts);
    await projects.delete(project.id);
    // Once more, for a build that turned READY between the two steps.
    await deps.routes.unpublishProject(project, hosts);
    res.status(204).end();
  });

  router.post('/projects/:projectId/github-webhook/secret', async (_req, res) => {
    const project = ownedProject(res);
    const secret = randomSecret('ghs');
    await projects.setGithubWebhookSecret(project.id, deps.box.seal(secret, githubSecretContext(project.id)));
    res.json({ githubWebhook: { url: `/webhooks/github?projectId=${project.id}`, secret } });
  });

  router.get('/projects/:projectId/deployments', async (req, res) => {
    const project = ownedProject(res);
    const query = parseQuery(listDeploymentsQuerySchema, req.query);
    const rows = await listProjectDeployments(deps.db, project.id, query);
    const last = rows.at(-1);
    res.json({
      deployments: rows.map((row) => presentDeployment(row, project, urls)),
      next: rows.length === query.limit && last ? last.id : null,
    });
  });

  router.post('/deploy', async (req, res) => {
    const body = parseBody(createDeploymentBodySchema, req.body);
    const project = await projects.getOwned(body.projectId, currentUser(res).id);
    if (!project) throw new HttpError(404, 'not_found', `project ${body.projectId} not found`);
    const deployment = await deps.deployer.deploy(project, { ref: body.ref, commit: body.commit });
    res.status(202).json({ deployment: presentDeployment(deployment, project, urls) });
  });

  router.get('/deployments/:deploymentId', (_req, res) => {
    res.json({ deployment: presentDeployment(ownedDeployment(res), ownedProject(res), urls) });
  });

  router.post('/deployments/:deploymentId/cancel', async (req, res) => {
    const body = parseBody(cancelDeploymentBodySchema, req.body);
    const deployment = ownedDeployment(res);
    const canceled = await deps.scheduler.cancel(deployment.id, body.reason ? `canceled: ${body.reason}` : `canceled by ${currentUser(res).email}`);
    const now = (await deployments.get(deployment.id)) ?? deployment;
    if (!canceled) throw new HttpError(409, 'not_cancelable', `the deployment already ended (${now.status})`);
    res.status(202).json({ deployment: presentDeployment(now, ownedProject(res), urls) });
  });

  router.post('/deployments/:deploymentId/redeploy', async (req, res) => {
    const body = parseBody(redeployBodySchema, req.body);
    const source = ownedDeployment(res);
    const project = ownedProject(res);
    // The same commit again (the one the first build resolved), on the same target.
    const deployment = await deps.deployer.deploy(project, {
      ref: source.ref,
      commit: source.commit_sha,
      target: source.target,
      useBuildCache: body.useBuildCache,
    });
    res.status(202).json({ deployment: presentDeployment(deployment, project, urls) });
  });

  router.post('/deployments/:deploymentId/promote', async (_req, res) => {
    const deployment = ownedDeployment(res);
    const project = ownedProject(res);
    if (deployment.status !== 'READY') {
      throw new HttpError(409, 'not_ready', `only a READY deployment can be promoted; this one is ${deployment.status}`);
    }
    const host = await deps.routes.promote(deployment, project);
    await deps.notifier.enqueue('deployment.promoted', deployment, project.slug);
    res.json({ deployment: presentDeployment(deployment, project, urls), productionUrl: urls.url(host) });
  });

  return router;
}
