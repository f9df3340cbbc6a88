import { parseCommandLine, validateGitUrl, type CreateProjectBody, type UpdateProjectBody } from '@platform/contracts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { randomSecret } from '../crypto/tokens.ts';
import { InvalidProjectSettings, ProjectNotFound } from './errors.ts';
import type { ProjectRow, ProjectsRepo } from './projects-repo.ts';

/** The associated data of a project's sealed GitHub webhook secret (see SecretBox). */
export const githubSecretContext = (projectId: string) => `github:${projectId}`;

/**
 * What a project's deployments must do when the project changes. Declared here and
 * implemented by the deployments feature (wired in the composition), so projects never
 * import deployments.
 */
export interface ProjectDeployments {
  /** The deployment the production hostname serves now, if it is one of this project's. */
  productionDeploymentId(project: ProjectRow): Promise<string | null>;
  /**
   * Ends every unfinished build of the project (so none publishes a route afterwards);
   * `unpublish` then removes the route records of every hostname its deployments had.
   */
  stopAll(project: ProjectRow, reason: string): Promise<{ unpublish(): Promise<void> }>;
}

/** A project and the secret of its GitHub webhook, which exists in clear only in this answer. */
export interface WithGithubSecret {
  project: ProjectRow;
  githubSecret: string;
}

/** Creating, reading, changing and deleting one owner's projects. */
export class ProjectsService {
  constructor(
    private readonly deps: {
      projects: ProjectsRepo;
      deployments: ProjectDeployments;
      box: SecretBox;
      localGitRoots: readonly string[];
      /** A project was marked for deletion: the worker that finishes deletions may start now. */
      onDeleting?: () => void;
    },
  ) {}

  async create(body: CreateProjectBody, ownerId: string): Promise<WithGithubSecret> {
    this.validateSettings(body);
    const githubSecret = randomSecret('ghs');
    const project = await this.deps.projects.create(body, ownerId, {
      githubWebhookSecretEnc: (id) => this.deps.box.seal(githubSecret, githubSecretContext(id)),
    });
    return { project, githubSecret };
  }

  listOwned(ownerId: string): Promise<ProjectRow[]> {
    return this.deps.projects.listOwned(ownerId);
  }

  getOwned(id: string, ownerId: string): Promise<ProjectRow | null> {
    return this.deps.projects.getOwned(id, ownerId);
  }

  /** Like `getOwned`, for a caller that names the project in a body: a stranger's is not found. */
  async requireOwned(id: string, ownerId: string): Promise<ProjectRow> {
    const project = await this.deps.projects.getOwned(id, ownerId);
    if (!project) throw new ProjectNotFound(id);
    return project;
  }

  productionDeploymentId(project: ProjectRow): Promise<string | null> {
    return this.deps.deployments.productionDeploymentId(project);
  }

  async update(project: ProjectRow, patch: UpdateProjectBody): Promise<ProjectRow> {
    this.validateSettings(patch);
    const updated = await this.deps.projects.update(project.id, patch);
    if (!updated) throw new ProjectNotFound();
    return updated;
  }

  /**
   * Answers at once: builds stop, the project is marked (from then on gone for every
   * reader, so no build publishes a route for it) and its hostnames stop serving; the
   * data-lifecycle worker (`onDeleting` wakes it) removes the rest in the background.
   */
  async delete(project: ProjectRow): Promise<void> {
    const routes = await this.deps.deployments.stopAll(project, 'the project was deleted');
    if (!(await this.deps.projects.markDeleting(project.id))) throw new ProjectNotFound();
    await routes.unpublish();
    this.deps.onDeleting?.();
  }

  async rotateGithubSecret(project: ProjectRow): Promise<string> {
    const secret = randomSecret('ghs');
    await this.deps.projects.setGithubWebhookSecret(project.id, this.deps.box.seal(secret, githubSecretContext(project.id)));
    return secret;
  }

  /** Checks what zod cannot: the git URL is safe to hand git, commands parse into argument arrays. */
  private validateSettings(body: Pick<UpdateProjectBody, 'gitUrl' | 'installCommand' | 'buildCommand' | 'ignoreCommand'>): void {
    if (body.gitUrl !== undefined) {
      try {
        validateGitUrl(body.gitUrl, { localRoots: this.deps.localGitRoots });
      } catch (err) {
        throw new InvalidProjectSettings('gitUrl', (err as Error).message);
      }
    }
    for (const field of ['installCommand', 'buildCommand', 'ignoreCommand'] as const) {
      const line = body[field];
      if (line === undefined || line === null) continue;
      try {
        parseCommandLine(line);
      } catch (err) {
        throw new InvalidProjectSettings(field, (err as Error).message);
      }
    }
  }
}
