import { randomId, type CreateDeployHookBody } from '@platform/contracts';
import type { Logger } from '@platform/logger';
import type { SecretBox } from '../crypto/secret-box.ts';
import { hmacSha256Hex, randomSecret, safeEqual, sha256Hex } from '../crypto/tokens.ts';
import type { Deployer } from '../deployments/deployer.ts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { ProjectRow, ProjectsRepo } from '../projects/projects-repo.ts';
import { githubSecretContext } from '../projects/projects-service.ts';
import { DeliveryNotFound, DeployHookNotFound, InvalidPayload, SignatureMismatch } from './errors.ts';
import type { GitEvents } from './git-events.ts';
import { decide, repositoryUrls, type Decision } from './github.ts';
import type { DeployHookRow, GithubDeliveryRow, WebhooksRepo } from './webhooks-repo.ts';

/** A GitHub delivery as received: headers already checked for shape, the body still raw. */
export interface GithubReceipt {
  event: string;
  deliveryId: string;
  /** The hex HMAC of `X-Hub-Signature-256`, lower-case. */
  signature: string;
  body: Buffer;
  /** The parsed body; null when it is not a JSON object. */
  payload: Record<string, unknown> | null;
  /** `?projectId=`: checks only this project's secret. */
  projectId?: string;
}

/** What one delivery did for one project. */
export interface DeliveryOutcome {
  projectId: string;
  duplicate: boolean;
  row: GithubDeliveryRow | null;
}

/**
 * Incoming webhooks. GitHub: `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the
 * project's secret, compared in constant time) is checked against the projects that build
 * the repository (or the one named), each delivery is stored once per project
 * (deduplicated on `X-GitHub-Delivery`), and branch pushes deploy. Deploy hooks: a secret
 * URL that deploys one branch; only a SHA-256 of the secret is stored.
 */
export class WebhooksService {
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      webhooks: WebhooksRepo;
      projects: Pick<ProjectsRepo, 'get' | 'findByGitUrls'>;
      deployer: Pick<Deployer, 'deploy'>;
      box: SecretBox;
      logger: Logger;
      /** The git integration (GitHub App, pull requests); without it only pushes deploy. */
      git?: GitEvents;
    },
  ) {
    this.log = deps.logger.child({ component: 'github-webhooks' });
  }

  async receiveGithub(receipt: GithubReceipt): Promise<DeliveryOutcome[]> {
    const fromApp = await this.appProjects(receipt);
    const verified = fromApp ?? (await this.verifiedProjects(receipt));
    if (!fromApp && verified.length === 0) throw new SignatureMismatch();
    if (!receipt.payload) throw new InvalidPayload('is not a JSON object');
    if (receipt.body.includes(0)) throw new InvalidPayload('contains NUL bytes');
    const outcomes: DeliveryOutcome[] = [];
    for (const project of verified) {
      // The App's webhook replaces a per-repository one once the project is linked: one deployment per push, not two.
      const superseded = !fromApp && (await this.deps.git?.isLinked(project.id));
      const override: Decision | undefined = superseded
        ? { outcome: 'ignored', detail: "the GitHub App's webhook delivers this repository's events" }
        : undefined;
      outcomes.push(await this.handleDelivery(project, receipt.deliveryId, receipt.event, receipt.payload, receipt.body.toString('utf8'), override));
    }
    return outcomes;
  }

  /** Runs a stored delivery again, as a new delivery: a push deploys again. */
  async redeliverGithub(project: ProjectRow, deliveryId: string): Promise<DeliveryOutcome> {
    const original = await this.deps.webhooks.getDelivery(project.id, deliveryId);
    if (!original) throw new DeliveryNotFound();
    const payload = JSON.parse(original.payload) as Record<string, unknown>;
    const newId = `${original.delivery_id.slice(0, 60)}-redelivery-${randomId(8)}`;
    return this.handleDelivery(project, newId, original.event, payload, original.payload);
  }

  listGithubDeliveries(project: ProjectRow): Promise<GithubDeliveryRow[]> {
    return this.deps.webhooks.listDeliveries(project.id);
  }

  /** Deploys the hook's branch; the caller holds only the hook's secret URL. */
  async triggerDeployHook(secret: string): Promise<{ hook: DeployHookRow; deployment: DeploymentRow }> {
    const hook = secret.length <= 128 ? await this.deps.webhooks.findHook(sha256Hex(secret)) : null;
    if (!hook) throw new DeployHookNotFound();
    const deployment = await this.deps.deployer.deploy(hook.project, { ref: hook.branch });
    return { hook, deployment };
  }

  /** The hook and its secret, which exists in clear only in this answer. */
  async createDeployHook(project: ProjectRow, body: CreateDeployHookBody): Promise<{ hook: DeployHookRow; secret: string }> {
    const secret = randomSecret('dh');
    const hook = await this.deps.webhooks.createHook(project.id, { name: body.name, branch: body.branch, tokenHash: sha256Hex(secret) });
    return { hook, secret };
  }

  listDeployHooks(project: ProjectRow): Promise<DeployHookRow[]> {
    return this.deps.webhooks.listHooks(project.id);
  }

  async deleteDeployHook(project: ProjectRow, hookId: string): Promise<void> {
    if (!(await this.deps.webhooks.deleteHook(project.id, hookId))) throw new DeployHookNotFound();
  }

  /**
   * A delivery of the GitHub App's webhook (signed with the App's secret): the projects
   * linked to the repository it names. Null when the App did not sign it.
   */
  private async appProjects(receipt: GithubReceipt): Promise<ProjectRow[] | null> {
    const secret = this.deps.git?.appWebhookSecret;
    if (!secret || !safeEqual(hmacSha256Hex(secret, receipt.body), receipt.signature)) return null;
    const repositoryId = (receipt.payload?.repository as { id?: unknown } | undefined)?.id;
    // Installation events and the like name no repository: accepted, nothing to do.
    if (typeof repositoryId !== 'number') return [];
    const ids = await this.deps.git!.linkedProjectIds(repositoryId);
    const projects = await Promise.all(ids.map((id) => this.deps.projects.get(id)));
    return projects.filter((p): p is ProjectRow => p !== null);
  }

  /** The candidate projects whose webhook secret signed this body. */
  private async verifiedProjects(receipt: GithubReceipt): Promise<ProjectRow[]> {
    const candidates = receipt.projectId
      ? [await this.deps.projects.get(receipt.projectId.slice(0, 64))].filter((p): p is ProjectRow => p !== null)
      : await this.deps.projects.findByGitUrls(repositoryUrls(receipt.payload ?? {}));
    return candidates.filter((project) => {
      if (!project.github_webhook_secret_enc) return false;
      const secret = this.deps.box.open(project.github_webhook_secret_enc, githubSecretContext(project.id));
      return safeEqual(hmacSha256Hex(secret, receipt.body), receipt.signature);
    });
  }

  private async handleDelivery(
    project: ProjectRow,
    deliveryId: string,
    event: string,
    payload: Record<string, unknown>,
    raw: string,
    override?: Decision,
  ): Promise<DeliveryOutcome> {
    const decision = override ?? decide(event, payload, project);
    // Claim the delivery first: a second copy (GitHub retry, duplicate send) finds it and stops.
    const claimed = await this.deps.webhooks.claimDelivery({
      project_id: project.id,
      delivery_id: deliveryId,
      event,
      payload: raw,
      outcome: decision.outcome,
      detail: decision.detail,
    });
    if (!claimed) return { projectId: project.id, duplicate: true, row: await this.deps.webhooks.getDelivery(project.id, deliveryId) };
    await this.applyGitSide(project, decision);
    if (!decision.deploy) return { projectId: project.id, duplicate: false, row: claimed };
    const deployment = await this.deps.deployer.deploy(project, decision.deploy);
    if (decision.pullRequest) await this.deps.git?.pullRequestDeployed(project, decision.pullRequest, deployment);
    const row = (await this.deps.webhooks.setDeliveryDeployment(project.id, deliveryId, deployment.id)) ?? claimed;
    this.log.info({ projectId: project.id, deliveryId, deploymentId: deployment.id, ref: decision.deploy.ref, event }, 'webhook deployed');
    return { projectId: project.id, duplicate: false, row };
  }

  /** Pull requests recorded (a fork's waiting for approval), a branch gone unpublished. */
  private async applyGitSide(project: ProjectRow, decision: Decision): Promise<void> {
    const git = this.deps.git;
    if (!git) return;
    if (decision.pullRequest) await git.pullRequestSeen(project, decision.pullRequest, decision.outcome === 'awaiting_approval');
    if (decision.unpublish) await git.unpublish(project, decision.unpublish.branch, decision.unpublish.pullRequest);
  }
}
