import { describe, expect, it } from 'vitest';
import { githubBranchPush, githubExamples } from '@platform/testing/github';
import { decide, repositoryUrls } from './github.ts';

describe('what a GitHub event means for a project (real payloads)', () => {
  const project = { production_branch: 'master' };

  it('deploys a branch push: production for the production branch, preview otherwise', () => {
    const push = githubBranchPush();
    expect(decide('push', push, project)).toEqual({
      outcome: 'deployed',
      detail: 'production deployment of master',
      deploy: { ref: 'master', commit: push.after },
    });
    expect(decide('push', push, { production_branch: 'main' }).detail).toBe('preview deployment of master');
  });

  it('ignores tags, deletions and other events; answers ping', () => {
    for (const push of githubExamples('push').filter((p) => String(p.ref).startsWith('refs/tags/'))) {
      expect(decide('push', push, project)).toMatchObject({ outcome: 'ignored', detail: expect.stringContaining('not a branch') });
    }
    // A branch deletion: GitHub sends deleted: true and an all-zero `after`; it unpublishes the branch.
    const deletion = { ...githubBranchPush(), ref: 'refs/heads/feature', deleted: true, after: '0'.repeat(40) };
    expect(decide('push', deletion, project)).toEqual({ outcome: 'unpublished', detail: 'branch feature was deleted', unpublish: { branch: 'feature' } });
    // The production branch keeps its deployments.
    expect(decide('push', { ...deletion, ref: 'refs/heads/master' }, project).outcome).toBe('ignored');
    expect(decide('ping', githubExamples('ping')[0]!, project).outcome).toBe('pong');
    expect(decide('issues', githubExamples('issues')[0]!, project)).toEqual({ outcome: 'ignored', detail: 'issues events do not deploy' });
  });

  it('builds pull requests opened, synchronized or reopened; holds a fork; unpublishes on close', () => {
    const examples = githubExamples('pull_request');
    for (const action of ['opened', 'synchronize', 'reopened']) {
      const pr = examples.find((p) => p.action === action)!;
      expect(decide('pull_request', pr, project)).toMatchObject({
        outcome: 'deployed',
        deploy: { ref: pr.pull_request.head.ref, commit: pr.pull_request.head.sha, target: 'preview' },
        pullRequest: { number: pr.number, branch: pr.pull_request.head.ref, fork: false },
      });
    }
    const fork = examples.find((p) => p.action === 'opened')!;
    fork.pull_request.head.repo.full_name = 'stranger/Hello-World';
    fork.pull_request.head.ref = 'master';
    // A fork builds `pull/<n>/head`, never its own branch name: it cannot take `master`'s alias.
    expect(decide('pull_request', fork, project)).toMatchObject({ outcome: 'awaiting_approval', pullRequest: { fork: true, ref: `pull/${fork.number}/head` } });
    expect(decide('pull_request', fork, project).deploy).toBeUndefined();
    const closed = examples.find((p) => p.action === 'closed')!;
    expect(decide('pull_request', closed, project)).toMatchObject({ outcome: 'unpublished', unpublish: { branch: closed.pull_request.head.ref } });
    expect(decide('pull_request', examples.find((p) => p.action === 'labeled')!, project).outcome).toBe('ignored');
    // Missing fields: ignored, never thrown.
    expect(decide('pull_request', { action: 'opened', pull_request: { head: {} } }, project).outcome).toBe('ignored');
  });

  it('unpublishes a deleted branch (delete event), not a deleted tag', () => {
    const tag = githubExamples('delete')[0]!;
    expect(decide('delete', tag, project).outcome).toBe('ignored');
    expect(decide('delete', { ...tag, ref: 'topic', ref_type: 'branch' }, project)).toEqual({
      outcome: 'unpublished',
      detail: 'branch topic was deleted',
      unpublish: { branch: 'topic' },
    });
  });

  it('lists the repository URL forms a project may have been created with', () => {
    const urls = repositoryUrls(githubBranchPush());
    expect(urls).toEqual(
      expect.arrayContaining([
        'https://github.com/Codertocat/Hello-World.git',
        'https://github.com/Codertocat/Hello-World',
        'git@github.com:Codertocat/Hello-World.git',
      ]),
    );
    expect(repositoryUrls({})).toEqual([]);
    expect(repositoryUrls({ repository: 'nope' })).toEqual([]);
  });
});
