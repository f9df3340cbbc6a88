import type { GithubDelivery } from '@platform/contracts';
import type { ProjectRow } from '../projects/projects-repo.ts';
import { deletedBranch, pullRequestAction, type PullRequestInfo } from './pull-requests.ts';

const ZERO_SHA = /^0{40}$/;

export interface Decision {
  outcome: GithubDelivery['outcome'];
  detail: string | null;
  deploy?: { ref: string; commit: string | null; target?: 'preview' };
  /** The pull request a deployment builds, or one whose fork build waits for approval. */
  pullRequest?: PullRequestInfo;
  /** A branch that went away (and the pull request closed with it): its aliases go, its queued builds are canceled. */
  unpublish?: { branch: string; pullRequest?: PullRequestInfo };
}

/** What a GitHub event means for a project: branch pushes and pull requests deploy; closing or deleting unpublishes. */
export function decide(event: string, payload: Record<string, unknown>, project: Pick<ProjectRow, 'production_branch'>): Decision {
  if (event === 'ping') return { outcome: 'pong', detail: typeof payload.zen === 'string' ? payload.zen : null };
  if (event === 'pull_request') return decidePullRequest(payload);
  if (event === 'delete') {
    const branch = deletedBranch(payload);
    return branch
      ? { outcome: 'unpublished', detail: `branch ${branch} was deleted`, unpublish: { branch } }
      : { outcome: 'ignored', detail: 'only a deleted branch unpublishes' };
  }
  if (event !== 'push') return { outcome: 'ignored', detail: `${event} events do not deploy` };
  const ref = typeof payload.ref === 'string' ? payload.ref : '';
  if (!ref.startsWith('refs/heads/')) return { outcome: 'ignored', detail: `${ref || 'a ref'} is not a branch (tags do not deploy)` };
  const branch = ref.slice('refs/heads/'.length);
  const after = typeof payload.after === 'string' ? payload.after : '';
  if (payload.deleted === true || ZERO_SHA.test(after)) {
    if (branch === project.production_branch) return { outcome: 'ignored', detail: `branch ${branch} was deleted` };
    return { outcome: 'unpublished', detail: `branch ${branch} was deleted`, unpublish: { branch } };
  }
  if (!branch || branch.length > 255 || /[\x00-\x1f\x7f]/.test(branch)) return { outcome: 'ignored', detail: 'the branch name is not usable' };
  const commit = /^[0-9a-f]{40}$/.test(after) ? after : null;
  return {
    outcome: 'deployed',
    detail: `${branch === project.production_branch ? 'production' : 'preview'} deployment of ${branch}`,
    deploy: { ref: branch, commit },
  };
}

function decidePullRequest(payload: Record<string, unknown>): Decision {
  const action = pullRequestAction(payload);
  switch (action.kind) {
    case 'build':
      return {
        outcome: 'deployed',
        detail: `preview deployment of pull request #${action.pr.number} (${action.pr.ref})`,
        deploy: { ref: action.pr.ref, commit: action.pr.headSha, target: 'preview' },
        pullRequest: action.pr,
      };
    case 'await_approval':
      return {
        outcome: 'awaiting_approval',
        detail: `pull request #${action.pr.number} comes from a fork: its build waits for an owner's approval`,
        pullRequest: action.pr,
      };
    case 'closed':
      return {
        outcome: 'unpublished',
        detail: `pull request #${action.pr.number} was closed`,
        unpublish: { branch: action.pr.ref, pullRequest: action.pr },
      };
    default:
      return { outcome: 'ignored', detail: action.reason };
  }
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

/** JSON, or the `payload` field of a form post (GitHub's other content type); null when neither. */
export function parsePayload(contentType: string, body: Buffer): Record<string, unknown> | null {
  let text = body.toString('utf8');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
