import {
  BUILD_EVENTS_TOPIC,
  compileVercelConfig,
  contentManifestEntry,
  contentTypeFor,
  isCompressible,
  VercelConfigError,
  type BuildEvent,
  type DirectDeploymentBody,
  type Manifest,
  type RoutingConfig,
  type UploadCheckBody,
} from '@platform/contracts';
import type { EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import { MIN_COMPRESS_BYTES, sha256Hex } from '@platform/object-store';
import type { DeploymentLifecycle } from '../deployments/deployment-lifecycle.ts';
import type { DeploymentRow, DeploymentsRepo } from '../deployments/deployments-repo.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import { ContentHashMismatch, EmptyDeployment, InvalidContentHash, InvalidRoutingConfig, MissingContents, UploadTooLarge } from './errors.ts';
import type { UploadsRepo } from './uploads-repo.ts';

export interface UploadLimits {
  /** Largest single file. */
  maxFileBytes: number;
  /** Most files in one deployment. */
  maxFiles: number;
  /** Most bytes in one deployment. */
  maxTotalBytes: number;
}

/** A deployment's files by path (the request's list, a repeated path taking its last entry). */
interface DeploymentFiles {
  files: Record<string, { hash: string; size: number }>;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 100 * 1024 ** 2, maxFiles: 20_000, maxTotalBytes: 1024 ** 3 };

/**
 * Deployments from uploaded files (the CLI's `deploy`): which contents a project lacks, each
 * content stored after its bytes are checked against its hash, and a deployment made from a
 * manifest of path → hash. The deployment is a row BUILDING from the start whose events go
 * on its build-event stream like a build's (a log line, then READY), so the same writer
 * publishes its routes and the same logs, URLs, promote and rollback apply.
 */
export class UploadsService {
  constructor(
    private readonly deps: {
      uploads: UploadsRepo;
      deployments: Pick<DeploymentsRepo, 'createDirect'>;
      lifecycle: Pick<DeploymentLifecycle, 'finish'>;
      bus: Pick<EventBus, 'publish'>;
      limits: UploadLimits;
      logger: Logger;
    },
  ) {}

  get limits(): UploadLimits {
    return this.deps.limits;
  }

  /** The error for a file of `size` bytes over the file limit. */
  tooLarge(size: number): UploadTooLarge {
    return tooLarge('the file', size, this.deps.limits.maxFileBytes);
  }

  /** The hashes (each once) of the listed contents the project's namespace does not hold. */
  async missing(project: ProjectRow, body: UploadCheckBody): Promise<string[]> {
    // Only a question: the limits apply to the uploads and the deployment that follow.
    const contents = await this.deps.uploads.contents(project.id);
    const missing = new Set<string>();
    for (const file of body.files) if (!contents.has(file.hash, file.size)) missing.add(file.hash);
    return [...missing];
  }

  /** Stores one content once its bytes hash to `hash`; `path` (optional) picks whether variants are worth making. */
  async upload(project: ProjectRow, hash: string, body: Buffer, path: string | undefined): Promise<{ hash: string; size: number; stored: boolean }> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new InvalidContentHash();
    if (body.length > this.deps.limits.maxFileBytes) throw tooLarge('the file', body.length, this.deps.limits.maxFileBytes);
    const actual = sha256Hex(body);
    if (actual !== hash) throw new ContentHashMismatch(hash, actual);
    if (await this.deps.uploads.has(project.id, hash, body.length)) return { hash, size: body.length, stored: false };
    const compress = path !== undefined && body.length >= MIN_COMPRESS_BYTES && isCompressible(contentTypeFor(path));
    const stored = await this.deps.uploads.save(project.id, body, hash, compress);
    return { hash, size: body.length, stored: stored.written };
  }

  /** A deployment of exactly these files; every content must be stored already. */
  async deploy(project: ProjectRow, request: DirectDeploymentBody): Promise<DeploymentRow> {
    const body = { target: request.target, files: Object.fromEntries(request.files.map((f) => [f.path, { hash: f.hash, size: f.size }])) };
    const paths = Object.keys(body.files).sort();
    if (paths.length === 0) throw new EmptyDeployment();
    const contents = await this.deps.uploads.contents(project.id);
    const absent = paths.filter((p) => !contents.has(body.files[p]!.hash, body.files[p]!.size));
    if (absent.length > 0) throw new MissingContents(absent);
    // Every content was stored within the file limit; the deployment's own limits remain.
    this.checkSizes(paths.map((path) => ({ path, size: body.files[path]!.size })));
    const routing = await this.routingFrom(project, body);
    const served = paths.filter((p) => p !== 'vercel.json');
    if (served.length === 0) throw new EmptyDeployment();

    const row = await this.deps.deployments.createDirect({ projectId: project.id, target: body.target });
    const manifest: Manifest = {
      version: 2,
      deploymentId: row.id,
      projectId: project.id,
      createdAt: new Date().toISOString(),
      files: Object.fromEntries(
        served.map((path) => [path, contentManifestEntry(path, { ...body.files[path]!, variants: contents.variantsOf(body.files[path]!.hash) })]),
      ),
      ...(routing ? { routing } : {}),
    };
    try {
      await this.deps.uploads.writeManifest(manifest);
      await this.publishOutcome(row, served.length, body);
    } catch (err) {
      // Nothing may stay BUILDING with nobody to end it: no task exists to reconcile.
      this.deps.logger.error({ err, deploymentId: row.id }, 'finishing an uploaded deployment failed');
      await this.deps.lifecycle.finish(row, 'ERROR', 'the deployment could not be published; deploy again', { noTask: true });
      throw err;
    }
    return row;
  }

  /** `vercel.json` among the files, compiled exactly as a build compiles it. */
  private async routingFrom(project: ProjectRow, body: DeploymentFiles): Promise<RoutingConfig | null> {
    const file = body.files['vercel.json'];
    if (!file) return null;
    const bytes = await this.deps.uploads.read(project.id, file.hash);
    if (!bytes) throw new MissingContents(['vercel.json']);
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new InvalidRoutingConfig(`vercel.json is not valid JSON: ${(err as Error).message}`);
    }
    try {
      return compileVercelConfig(json).routing;
    } catch (err) {
      if (err instanceof VercelConfigError) throw new InvalidRoutingConfig(err.message);
      throw err;
    }
  }

  /** BUILDING, one log line, READY: the stream a build's consumer turns into routes and state. */
  private async publishOutcome(row: DeploymentRow, files: number, body: DeploymentFiles): Promise<void> {
    const bytes = Object.values(body.files).reduce((sum, f) => sum + f.size, 0);
    const base = { deploymentId: row.id, projectId: row.project_id };
    const now = Date.now();
    const events: BuildEvent[] = [
      { ...base, type: 'status', seq: 1, ts: now, status: 'BUILDING' },
      { ...base, type: 'log', seq: 2, ts: now, stream: 'system', message: `Deployed ${files} uploaded files (${bytes} bytes) without a build` },
      { ...base, type: 'status', seq: 3, ts: now, status: 'READY' },
    ];
    await this.deps.bus.publish(
      BUILD_EVENTS_TOPIC,
      events.map((e) => ({ key: e.deploymentId, value: JSON.stringify(e) })),
    );
  }

  private checkSizes(files: readonly { path: string; size: number }[]): void {
    const { maxFiles, maxFileBytes, maxTotalBytes } = this.deps.limits;
    if (files.length > maxFiles) throw new UploadTooLarge(`the deployment has ${files.length} files, more than the limit of ${maxFiles}`);
    let total = 0;
    for (const file of files) {
      if (file.size > maxFileBytes) throw tooLarge(file.path, file.size, maxFileBytes);
      total += file.size;
    }
    if (total > maxTotalBytes) throw tooLarge('the deployment', total, maxTotalBytes);
  }
}

function tooLarge(what: string, size: number, limit: number): UploadTooLarge {
  return new UploadTooLarge(`${what} is ${size} bytes, more than the limit of ${limit} bytes`);
}
