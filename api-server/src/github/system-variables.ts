import type { SystemVariableName } from '@platform/contracts';
import type { DeploymentRow } from '../deployments/deployments-repo.ts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import type { Urls } from '../urls.ts';

/**
 * The system variables of a build, as Vercel names them with this platform's prefix: URLs
 * are host[:port] without a scheme, as `VERCEL_URL` is. The build-server adds the commit's
 * sha and message from the checkout (the API may not know them before the clone).
 */
export function systemVariables(input: {
  project: Pick<ProjectRow, 'slug' | 'git_url'>;
  deployment: Pick<DeploymentRow, 'id' | 'target' | 'ref' | 'commit_sha'>;
  urls: Urls;
  pullRequest: number | null;
  /** `owner/name` of the GitHub repository, when the project is linked to one. */
  repository: string | null;
}): Record<SystemVariableName, string> {
  const { project, deployment, urls } = input;
  const bare = (host: string) => urls.url(host).replace(/^https?:\/\//, '');
  const repo = input.repository ?? repositoryPath(project.git_url);
  const [owner = '', slug = ''] = repo.split('/');
  return {
    PLATFORM: '1',
    PLATFORM_ENV: deployment.target,
    PLATFORM_URL: bare(urls.deploymentHost(project.slug, deployment.id)),
    PLATFORM_BRANCH_URL: deployment.ref ? bare(urls.branchHost(project.slug, deployment.ref)) : '',
    PLATFORM_PROJECT_PRODUCTION_URL: bare(urls.productionHost(project.slug)),
    PLATFORM_DEPLOYMENT_ID: deployment.id,
    PLATFORM_GIT_PROVIDER: input.repository ? 'github' : gitProvider(project.git_url),
    PLATFORM_GIT_REPO_OWNER: owner,
    PLATFORM_GIT_REPO_SLUG: slug,
    PLATFORM_GIT_COMMIT_REF: deployment.ref ?? '',
    PLATFORM_GIT_COMMIT_SHA: deployment.commit_sha ?? '',
    PLATFORM_GIT_COMMIT_MESSAGE: '',
    PLATFORM_GIT_PULL_REQUEST_ID: input.pullRequest ? String(input.pullRequest) : '',
  };
}

/** `github`, `gitlab`, `bitbucket` from the remote's host; `git` for any other. */
function gitProvider(gitUrl: string): string {
  const host = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)/i.exec(gitUrl)?.[1]?.toLowerCase() ?? '';
  for (const provider of ['github', 'gitlab', 'bitbucket']) if (host === `${provider}.com` || host === `${provider}.org`) return provider;
  return 'git';
}

/** `owner/name` from the last two path segments of a remote, without `.git`. */
function repositoryPath(gitUrl: string): string {
  const path = gitUrl.replace(/^[a-z+]+:\/\/[^/]+\//i, '').replace(/^[^@/]+@[^:]+:/, '');
  const parts = path
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  return parts.length >= 2 ? parts.slice(-2).join('/') : '';
}
