/** What `pull_request`, `delete` and branch-deleting `push` events mean, from GitHub's payloads. */

/** A pull request as the platform keeps it. */
export interface PullRequestInfo {
  number: number;
  title: string;
  htmlUrl: string | null;
  /** The head branch (`head.ref`): the preview is served at `<project>-git-<branch>`. */
  branch: string;
  /**
   * What the platform builds and aliases: the head branch, or for a fork `pull/<n>/head` (the
   * ref GitHub keeps in the base repository), so a fork's branch named like one of the
   * project's (`main`) can neither take that branch's alias nor cancel its builds.
   */
  ref: string;
  headSha: string;
  /** The head lives in another repository: its code is a stranger's until an owner approves it. */
  fork: boolean;
}

interface WebhookPullRequest {
  number?: unknown;
  title?: unknown;
  html_url?: unknown;
  head?: { ref?: unknown; sha?: unknown; repo?: { full_name?: unknown } | null };
  base?: { repo?: { full_name?: unknown } | null };
}

const SHA = /^[0-9a-f]{40}$/;
const usableBranch = (branch: string) => branch.length > 0 && branch.length <= 255 && !/[\x00-\x1f\x7f]/.test(branch);

/** The pull request of a `pull_request` payload; null when a field the platform needs is missing. */
export function pullRequestOf(payload: Record<string, unknown>): PullRequestInfo | null {
  // The fields read are each checked for their type below.
  const pr = payload.pull_request as WebhookPullRequest | undefined;
  if (!pr || typeof pr !== 'object') return null;
  const number = typeof payload.number === 'number' ? payload.number : pr.number;
  const branch = pr.head?.ref;
  const headSha = pr.head?.sha;
  if (
    typeof number !== 'number' ||
    !Number.isInteger(number) ||
    number <= 0 ||
    typeof branch !== 'string' ||
    !usableBranch(branch) ||
    typeof headSha !== 'string' ||
    !SHA.test(headSha)
  ) {
    return null;
  }
  const headRepo = pr.head?.repo?.full_name;
  const baseRepo = pr.base?.repo?.full_name;
  // A deleted fork has no head repository left: a stranger's all the same.
  const fork = typeof headRepo !== 'string' || headRepo !== baseRepo;
  return {
    number,
    title: typeof pr.title === 'string' ? pr.title.slice(0, 300) : '',
    htmlUrl: typeof pr.html_url === 'string' ? pr.html_url.slice(0, 2048) : null,
    branch,
    ref: fork ? `pull/${number}/head` : branch,
    headSha,
    fork,
  };
}

export type PullRequestAction =
  | { kind: 'build'; pr: PullRequestInfo }
  | { kind: 'await_approval'; pr: PullRequestInfo }
  | { kind: 'closed'; pr: PullRequestInfo }
  | { kind: 'ignored'; reason: string };

/** opened, synchronize and reopened build the head commit (a fork's waits for approval); closed unpublishes. */
export function pullRequestAction(payload: Record<string, unknown>): PullRequestAction {
  const action = typeof payload.action === 'string' ? payload.action : '';
  const pr = pullRequestOf(payload);
  if (!pr) return { kind: 'ignored', reason: 'the pull request payload lacks its number, head branch or head commit' };
  if (action === 'closed') return { kind: 'closed', pr };
  if (action === 'opened' || action === 'synchronize' || action === 'reopened') return pr.fork ? { kind: 'await_approval', pr } : { kind: 'build', pr };
  return { kind: 'ignored', reason: `pull_request ${action || 'without an action'} does not deploy` };
}

/** The branch a `delete` event (ref_type branch) removed; null for a tag or a malformed payload. */
export function deletedBranch(payload: Record<string, unknown>): string | null {
  if (payload.ref_type !== 'branch' || typeof payload.ref !== 'string') return null;
  return usableBranch(payload.ref) ? payload.ref : null;
}
