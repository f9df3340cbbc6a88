import { describe, expect, it } from 'vitest';
import { systemVariableNames } from '@platform/contracts';
import { Urls } from '../urls.ts';
import { systemVariables } from './system-variables.ts';

describe('system variables', () => {
  const urls = new Urls({ rootDomain: 'example.test', scheme: 'https' });
  const deployment = { id: 'abcdefghijklmnopqrst', target: 'preview' as const, ref: 'feature/x', commit_sha: null };

  it('names every documented variable, URLs as host names without a scheme (as VERCEL_URL)', () => {
    const vars = systemVariables({ project: { slug: 'site', git_url: 'git@gitlab.com:team/site.git' }, deployment, urls, pullRequest: null, repository: null });
    expect(Object.keys(vars).sort()).toEqual([...systemVariableNames].sort());
    expect(vars).toMatchObject({
      PLATFORM: '1',
      PLATFORM_ENV: 'preview',
      PLATFORM_URL: urls.deploymentHost('site', deployment.id),
      PLATFORM_BRANCH_URL: urls.branchHost('site', 'feature/x'),
      PLATFORM_PROJECT_PRODUCTION_URL: 'site.example.test',
      PLATFORM_GIT_PROVIDER: 'gitlab',
      PLATFORM_GIT_REPO_OWNER: 'team',
      PLATFORM_GIT_REPO_SLUG: 'site',
      PLATFORM_GIT_COMMIT_REF: 'feature/x',
      PLATFORM_GIT_PULL_REQUEST_ID: '',
    });
  });

  it('takes the GitHub repository of a linked project and the pull request number', () => {
    const vars = systemVariables({
      project: { slug: 'site', git_url: 'http://127.0.0.1:1234/x.git' },
      deployment: { ...deployment, target: 'production', ref: 'main', commit_sha: 'a'.repeat(40) },
      urls,
      pullRequest: 12,
      repository: 'octo/site',
    });
    expect(vars).toMatchObject({
      PLATFORM_GIT_PROVIDER: 'github',
      PLATFORM_GIT_REPO_OWNER: 'octo',
      PLATFORM_GIT_REPO_SLUG: 'site',
      PLATFORM_GIT_PULL_REQUEST_ID: '12',
    });
    expect(vars.PLATFORM_GIT_COMMIT_SHA).toBe('a'.repeat(40));
  });
});
