import express, { Router } from 'express';
import { createDeployHookBodySchema } from '@platform/contracts';
import { HttpError, parseBody } from '../http/errors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { ownedProject } from '../projects/access.ts';
import { parsePayload } from './github.ts';
import { presentDeployHook, presentGithubDelivery } from './presenters.ts';
import type { DeliveryOutcome, WebhooksService } from './webhooks-service.ts';

/** GitHub caps webhook payloads at 25 MB. */
const MAX_PAYLOAD = '25mb';

/** A delivery's result as the answer shows it: the stored record, when there is one. */
const presentOutcome = (o: DeliveryOutcome) => ({ projectId: o.projectId, duplicate: o.duplicate, ...(o.row ? presentGithubDelivery(o.row) : {}) });

/** `POST /webhooks/github`: mounted before any JSON body parser, since the signature covers the raw bytes. */
export function githubReceiver(deps: { webhooks: WebhooksService; limiter: RateLimiter }): Router {
  const router = Router();
  router.post('/webhooks/github', deps.limiter.middleware('webhook'), express.raw({ type: () => true, limit: MAX_PAYLOAD }), async (req, res) => {
    const event = req.get('x-github-event');
    const deliveryId = req.get('x-github-delivery');
    const signature = req.get('x-hub-signature-256');
    if (!signature) throw new HttpError(401, 'missing_signature', 'X-Hub-Signature-256 is missing: set a secret on the GitHub webhook');
    if (!/^sha256=[0-9a-f]{64}$/i.test(signature)) throw new HttpError(401, 'invalid_signature', 'X-Hub-Signature-256 is not a sha256= HMAC');
    if (!event || !/^[a-z_]{1,64}$/.test(event)) throw new HttpError(400, 'invalid_header', 'X-GitHub-Event is missing or malformed');
    if (!deliveryId || !/^[A-Za-z0-9-]{1,100}$/.test(deliveryId)) throw new HttpError(400, 'invalid_header', 'X-GitHub-Delivery is missing or malformed');
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcomes = await deps.webhooks.receiveGithub({
      event,
      deliveryId,
      signature: signature.slice('sha256='.length).toLowerCase(),
      body,
      payload: parsePayload(req.get('content-type') ?? '', body),
      ...(typeof req.query.projectId === 'string' ? { projectId: req.query.projectId } : {}),
    });
    const deployed = outcomes.some((o) => !o.duplicate && o.row?.outcome === 'deployed');
    res.status(deployed ? 202 : 200).json({ deliveryId, results: outcomes.map(presentOutcome) });
  });
  return router;
}

/** `POST /deploy-hooks/<secret>`: public, behind the webhook rate limit. */
export function deployHookReceiver(deps: { webhooks: WebhooksService; limiter: RateLimiter }): Router {
  const router = Router();
  router.post('/deploy-hooks/:secret', deps.limiter.middleware('deploy hook'), async (req, res) => {
    const { hook, deployment } = await deps.webhooks.triggerDeployHook(String(req.params.secret));
    // The caller holds only the hook's URL: tell it what started, nothing more.
    res.status(202).json({ job: { deploymentId: deployment.id, projectId: hook.project_id, ref: hook.branch, state: deployment.status } });
  });
  return router;
}

/** GitHub delivery history and redelivery, and deploy hooks; mounted behind the project-owner guard. */
export function webhookOwnerRoutes(deps: { webhooks: WebhooksService }): Router {
  const router = Router();
  const { webhooks } = deps;
  router.get('/projects/:projectId/github-webhook/deliveries', async (_req, res) => {
    res.json({ deliveries: (await webhooks.listGithubDeliveries(ownedProject(res))).map(presentGithubDelivery) });
  });
  router.post('/projects/:projectId/github-webhook/deliveries/:deliveryId/redeliver', async (req, res) => {
    const result = presentOutcome(await webhooks.redeliverGithub(ownedProject(res), String(req.params.deliveryId)));
    res.status(result.outcome === 'deployed' ? 202 : 200).json({ result });
  });
  router.post('/projects/:projectId/deploy-hooks', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(createDeployHookBodySchema, req.body);
    const { hook, secret } = await webhooks.createDeployHook(project, body);
    res.status(201).json({ hook: presentDeployHook(hook), url: `/deploy-hooks/${secret}` });
  });
  router.get('/projects/:projectId/deploy-hooks', async (_req, res) => {
    res.json({ hooks: (await webhooks.listDeployHooks(ownedProject(res))).map(presentDeployHook) });
  });
  router.delete('/projects/:projectId/deploy-hooks/:hookId', async (req, res) => {
    await webhooks.deleteDeployHook(ownedProject(res), String(req.params.hookId));
    res.status(204).end();
  });
  return router;
}
