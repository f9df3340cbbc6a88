import { Router } from 'express';
import { connectInstallationBodySchema, linkGithubRepositoryBodySchema, setGitCredentialsBodySchema } from '@platform/contracts';
import { currentUser } from '../auth/require-user.ts';
import { presentDeployment } from '../deployments/presenters.ts';
import { HttpError, parseBody } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { Urls } from '../urls.ts';
import type { GitService } from './github-service.ts';
import { presentCredentials, presentInstallation, presentLink, presentPullRequest, presentRepository } from './presenters.ts';

/** A positive integer path parameter (an installation id, a pull request number), or a 400 naming it. */
function positiveInt(value: unknown, name: string, max: number): number {
  const n = Number(value);
  if (!/^\d{1,16}$/.test(String(value)) || !Number.isSafeInteger(n) || n <= 0 || n > max) {
    throw new HttpError(400, 'invalid_parameter', `${name} must be an integer from 1 to ${max}`);
  }
  return n;
}

/** The signed-in user's GitHub App installations: `/github/...`. */
export function githubAccountRoutes(deps: { git: GitService }): Router {
  const router = Router();
  const { git } = deps;
  router.get('/github/app', (_req, res) => {
    res.json(git.appInfo());
  });
  router.post('/github/installations', async (req, res) => {
    const body = parseBody(connectInstallationBodySchema, req.body);
    res.status(201).json({ installation: presentInstallation(await git.connectInstallation(currentUser(res).id, body)) });
  });
  router.get('/github/installations', async (_req, res) => {
    res.json({ installations: (await git.listInstallations(currentUser(res).id)).map(presentInstallation) });
  });
  router.get('/github/installations/:installationId/repositories', async (req, res) => {
    const id = positiveInt(req.params.installationId, 'installationId', Number.MAX_SAFE_INTEGER);
    res.json({ repositories: (await git.listRepositories(currentUser(res).id, id)).map(presentRepository) });
  });
  return router;
}

/** A project's repository link, git credentials and pull requests; behind the project-owner guard. */
export function projectGitRoutes(deps: { git: GitService; urls: Urls }): Router {
  const router = Router();
  const { git, urls } = deps;
  router.put('/projects/:projectId/github', async (req, res) => {
    const body = parseBody(linkGithubRepositoryBodySchema, req.body);
    res.json({ github: presentLink(await git.linkRepository(ownedProject(res), currentUser(res).id, body)) });
  });
  router.get('/projects/:projectId/github', async (_req, res) => {
    const link = await git.getLink(ownedProject(res));
    res.json({ github: link ? presentLink(link) : null });
  });
  router.delete('/projects/:projectId/github', async (_req, res) => {
    await git.unlink(ownedProject(res));
    res.status(204).end();
  });
  router.put('/projects/:projectId/git-credentials', async (req, res) => {
    const body = parseBody(setGitCredentialsBodySchema, req.body);
    res.json({ credentials: presentCredentials(await git.setCredentials(ownedProject(res), body)) });
  });
  router.get('/projects/:projectId/git-credentials', async (_req, res) => {
    const row = await git.getCredentials(ownedProject(res));
    res.json({ credentials: row ? presentCredentials(row) : null });
  });
  router.delete('/projects/:projectId/git-credentials', async (_req, res) => {
    await git.deleteCredentials(ownedProject(res));
    res.status(204).end();
  });
  router.get('/projects/:projectId/pull-requests', async (_req, res) => {
    const project = ownedProject(res);
    res.json({ pullRequests: (await git.listPullRequests(project)).map((pr) => presentPullRequest(pr, project, urls)) });
  });
  router.post('/projects/:projectId/pull-requests/:number/approve', async (req, res) => {
    const project = ownedProject(res);
    const deployment = await git.approve(project, positiveInt(req.params.number, 'number', 2_147_483_647));
    res.status(202).json({ deployment: presentDeployment(deployment, project, urls) });
  });
  return router;
}
