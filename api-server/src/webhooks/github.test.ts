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
    // A branch deletion: GitHub sends deleted: true and an all-zero `after`.
    const deletion = { ...githubBranchPush(), ref: 'refs/heads/feature', deleted: true, after: '0'.repeat(40) };
    expect(decide('push', deletion, project)).toEqual({ outcome: 'ignored', detail: 'branch feature was deleted' });
    expect(decide('ping', githubExamples('ping')[0]!, project).outcome).toBe('pong');
    expect(decide('issues', githubExamples('issues')[0]!, project)).toEqual({ outcome: 'ignored', detail: 'issues events do not deploy' });
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
