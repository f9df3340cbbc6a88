import express, { Router, type Request } from 'express';
import { randomId, type GithubDelivery } from '@platform/contracts';
import type { Db } from '@platform/db';
import type { Logger } from '@platform/logger';
import type { SecretBox } from '../crypto/secret-box.ts';
import { hmacSha256Hex, safeEqual } from '../crypto/tokens.ts';
import { HttpError, notFound } from '../errors.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { ownedProject } from '../projects/access.ts';
import type { Deployer } from '../projects/deployer.ts';
import type { ProjectRow, ProjectsRepo } from '../projects/projects-repo.ts';

export const githubSecretContext = (projectId: string) => `github:${projectId}`;

/** GitHub caps webhook payloads at 25 MB. */
const MAX_PAYLOAD = '25mb';
const ZERO_SHA = /^0{40}$/;

interface DeliveryRow {
  project_id: string;
  delivery_id: string;
  event: string;
  payload: string;
  outcome: GithubDelivery['outcome'];
  detail: string | null;
  deployment_id: string | null;
  received_at: Date;
}

const present = (row: DeliveryRow): GithubDelivery => ({
  deliveryId: row.delivery_id,
  event: row.event,
  outcome: row.outcome,
  detail: row.detail,
  deploymentId: row.deployment_id,
  receivedAt: new Date(row.received_at).toISOString(),
});

interface Decision {
  outcome: GithubDelivery['outcome'];
  detail: string | null;
  deploy?: { ref: string; commit: string | null };
}

/** What a GitHub event means for a project. Only branch pushes deploy. */
export function decide(event: string, payload: Record<string, unknown>, project: Pick<ProjectRow, 'production_branch'>): Decision {
  if (event === 'ping') return { outcome: 'pong', detail: typeof payload.zen === 'string' ? payload.zen : null };
  if (event !== 'push') return { outcome: 'ignored', detail: `${event} events do not deploy` };
  const ref = typeof payload.ref === 'string' ? payload.ref : '';
  if (!ref.startsWith('refs/heads/')) return { outcome: 'ignored', detail: `${ref || 'a ref'} is not a branch (tags do not deploy)` };
  const branch = ref.slice('refs/heads/'.length);
  const after = typeof payload.after === 'string' ? payload.after : '';
  if (payload.deleted === true || ZERO_SHA.test(after)) return { outcome: 'ignored', detail: `branch ${branch} was deleted` };
  if (!branch || branch.length > 255 || /[\x00-\x1f\x7f]/.test(branch)) return { outcome: 'ignored', detail: 'the branch name is not usable' };
  const commit = /^[0-9a-f]{40}$/.test(after) ? after : null;
  return {
    outcome: 'deployed',
    detail: `${branch === project.production_branch ? 'production' : 'preview'} deployment of ${branch}`,
    deploy: { ref: branch, commit },
  };
}

/** The URL forms GitHub sends for a repository, matched against projects' git URLs. */
export function repositoryUrls(payload: Record<string, unknown>): string[] {
  const repo = payload.repository as Record<string, unknown> | undefined;
  if (!repo || typeof repo !== 'object') return [];
  const urls = new Set<string>();
  for (const field of ['clone_url', 'ssh_url', 'git_url', 'html_url', 'url', 'svn_url']) {
    const value = repo[field];
    if (typeof value !== 'string' || value.length > 2048) continue;
    urls.add(value);
    urls.add(value.endsWith('.git') ? value.slice(0, -4) : `${value}.git`);
  }
  return [...urls];
}

/**
 * `POST /webhooks/github`: verifies `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with
 * the project's secret, compared in constant time) against the projects that build the
 * repository (or the one named by `?projectId=`), stores each delivery once per project
 * (deduplicated on `X-GitHub-Delivery`), and deploys branch pushes.
 */
export class GithubWebhooks {
  private readonly log: Logger;

  constructor(
    private readonly deps: { db: Db; projects: ProjectsRepo; deployer: Deployer; box: SecretBox; limiter: RateLimiter; logger: Logger },
  ) {
    this.log = deps.logger.child({ component: 'github-webhooks' });
  }

  private async handleDelivery(project: ProjectRow, deliveryId: string, event: string, payload: Record<string, unknown>, raw: string) {
    const deps = this.deps;
    const decision = decide(event, payload, project);
    // Claim the delivery first: a second copy (GitHub retry, duplicate send) finds it and stops.
    const claimed = await deps.db.query<DeliveryRow>(
      `INSERT INTO github_deliveries (project_id, delivery_id, event, payload, outcome, detail)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, delivery_id) DO NOTHING RETURNING *`,
      [project.id, deliveryId, event, raw, decision.outcome, decision.detail],
    );
    if (!claimed[0]) {
      const existing = await deps.db.query<DeliveryRow>('SELECT * FROM github_deliveries WHERE project_id = $1 AND delivery_id = $2', [project.id, deliveryId]);
      return { projectId: project.id, duplicate: true, ...(existing[0] ? present(existing[0]) : {}) };
    }
    let row = claimed[0];
    if (decision.deploy) {
      const deployment = await deps.deployer.deploy(project, decision.deploy);
      row = (await deps.db.query<DeliveryRow>(
        'UPDATE github_deliveries SET deployment_id = $3 WHERE project_id = $1 AND delivery_id = $2 RETURNING *',
        [project.id, deliveryId, deployment.id],
      ))[0] ?? row;
      this.log.info({ projectId: project.id, deliveryId, deploymentId: deployment.id, ref: decision.deploy.ref }, 'push deployed');
    }
    return { projectId: project.id, duplicate: false, ...present(row) };
  }

  /** The public endpoint; mounted before any JSON body parser, since the signature covers the raw bytes. */
  receiver(): Router {
  const router = Router();
  const deps = this.deps;
  router.post('/webhooks/github', deps.limiter.middleware('webhook'), express.raw({ type: () => true, limit: MAX_PAYLOAD }), async (req, res) => {
    const event = req.get('x-github-event');
    const deliveryId = req.get('x-github-delivery');
    const signature = req.get('x-hub-signature-256');
    if (!signature) throw new HttpError(401, 'missing_signature', 'X-Hub-Signature-256 is missing: set a secret on the GitHub webhook');
    if (!/^sha256=[0-9a-f]{64}$/i.test(signature)) throw new HttpError(401, 'invalid_signature', 'X-Hub-Signature-256 is not a sha256= HMAC');
    if (!event || !/^[a-z_]{1,64}$/.test(event)) throw new HttpError(400, 'invalid_header', 'X-GitHub-Event is missing or malformed');
    if (!deliveryId || !/^[A-Za-z0-9-]{1,100}$/.test(deliveryId)) throw new HttpError(400, 'invalid_header', 'X-GitHub-Delivery is missing or malformed');
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const payload = parsePayload(req, body);
    const projectId = typeof req.query.projectId === 'string' ? req.query.projectId : undefined;

    const candidates = projectId
      ? [await deps.projects.get(projectId.slice(0, 64))].filter((p): p is ProjectRow => p !== null)
      : await deps.projects.findByGitUrls(repositoryUrls(payload ?? {}));
    const expected = signature.slice('sha256='.length).toLowerCase();
    const verified = candidates.filter((project) => {
      if (!project.github_webhook_secret_enc) return false;
      const secret = deps.box.open(project.github_webhook_secret_enc, githubSecretContext(project.id));
      return safeEqual(hmacSha256Hex(secret, body), expected);
    });
    // One answer for "no such project" and "wrong secret", so a caller learns nothing.
    if (verified.length === 0) throw new HttpError(401, 'invalid_signature', 'the signature does not match the webhook secret of any project building this repository');
    if (!payload) throw new HttpError(400, 'invalid_json', 'the webhook payload is not a JSON object');
    if (body.includes(0)) throw new HttpError(400, 'invalid_json', 'the webhook payload contains NUL bytes');

    const results = [];
    for (const project of verified) results.push(await this.handleDelivery(project, deliveryId, event, payload, body.toString('utf8')));
    const deployed = results.some((r) => !r.duplicate && r.outcome === 'deployed');
    res.status(deployed ? 202 : 200).json({ deliveryId, results });
  });
  return router;
  }

  /** Delivery history and redelivery; mounted behind the project-owner guard. */
  ownerRoutes(): Router {
  const router = Router();
  const deps = this.deps;
  router.get('/projects/:projectId/github-webhook/deliveries', async (_req, res) => {
    const rows = await deps.db.query<DeliveryRow>(
      'SELECT * FROM github_deliveries WHERE project_id = $1 ORDER BY received_at DESC LIMIT 100',
      [ownedProject(res).id],
    );
    res.json({ deliveries: rows.map(present) });
  });

  /** Runs a stored delivery again, as a new delivery: a push deploys again. */
  router.post('/projects/:projectId/github-webhook/deliveries/:deliveryId/redeliver', async (req, res) => {
    const project = ownedProject(res);
    const original = (await deps.db.query<DeliveryRow>(
      'SELECT * FROM github_deliveries WHERE project_id = $1 AND delivery_id = $2',
      [project.id, String(req.params.deliveryId)],
    ))[0];
    if (!original) throw notFound('delivery');
    const payload = JSON.parse(original.payload) as Record<string, unknown>;
    const result = await this.handleDelivery(project, `${original.delivery_id.slice(0, 60)}-redelivery-${randomId(8)}`, original.event, payload, original.payload);
    res.status(result.outcome === 'deployed' ? 202 : 200).json({ result });
  });
  return router;
  }
}

/** JSON, or the `payload` field of a form post (GitHub's other content type); null when neither. */
function parsePayload(req: Request, body: Buffer): Record<string, unknown> | null {
  let text = body.toString('utf8');
  if ((req.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
