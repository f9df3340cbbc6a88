import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestKey } from '@platform/contracts';
import { buildRepo } from '@platform/testing/build';
import { gitCommitAll, removeTempDirs, repoFromFixture } from '@platform/testing/fixtures';

afterAll(removeTempDirs);

/** A site whose build leaves a mark in the log; its second commit changes only `docs/`. */
function siteWithTwoCommits(vercelJson: object | null): string {
  const repo = repoFromFixture(null, {
    'package.json': JSON.stringify({ scripts: { build: 'node build.js' } }),
    'build.js': "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.html','built');console.log('the build ran');",
    'docs/notes.md': 'one',
    ...(vercelJson ? { 'vercel.json': JSON.stringify(vercelJson) } : {}),
  });
  writeFileSync(join(repo, 'docs', 'notes.md'), 'two');
  gitCommitAll(repo, 'docs only');
  return repo;
}

describe('the ignored build step', () => {
  it('exit 0 (nothing changed outside docs/) skips the build: CANCELED with its own reason, nothing installed or uploaded', async () => {
    const repo = siteWithTwoCommits({ ignoreCommand: 'git diff --quiet HEAD^ HEAD -- . :!docs' });
    const build = await buildRepo(repo);
    expect(build.result, build.text).toBe('CANCELED');
    expect(build.final).toMatchObject({
      status: 'CANCELED',
      detail: 'skipped: the ignored build step "git diff --quiet HEAD^ HEAD -- . :!docs" exited with code 0',
    });
    expect(build.text).toContain('Running the ignored build step (vercel.json ignoreCommand): git diff --quiet HEAD^ HEAD -- . :!docs');
    expect(build.text).not.toContain('Running install command');
    expect(build.text).not.toContain('the build ran');
    expect(await build.store.getBuffer(manifestKey(build.task.deploymentId))).toBeNull();
  });

  it('exit 1 (a change that matters) builds as usual', async () => {
    const repo = siteWithTwoCommits({ ignoreCommand: 'git diff --quiet HEAD^ HEAD -- docs' });
    const build = await buildRepo(repo);
    expect(build.result, build.text).toBe('READY');
    expect(build.text).toContain('The ignored build step exited with code 1: building');
    expect(build.text).toContain('the build ran');
  });

  it('the project setting wins over vercel.json, and a command that cannot start builds instead of losing the deployment', async () => {
    const repo = siteWithTwoCommits({ ignoreCommand: 'git diff --quiet HEAD^ HEAD -- docs' });
    const skipped = await buildRepo(repo, { task: { ignoreCommand: ['true'] } });
    expect(skipped.result).toBe('CANCELED');
    expect(skipped.text).toContain('Running the ignored build step (project setting): true');

    const broken = await buildRepo(repo, { task: { ignoreCommand: ['no-such-program-here'] } });
    expect(broken.result, broken.text).toBe('READY');
    expect(broken.text).toMatch(/The ignored build step (could not start|exited with code 127)[^\n]*: building/);
  });

  it('sees the build env vars but no platform secret, and runs in the sandbox like any user command', async () => {
    const repo = siteWithTwoCommits(null);
    const build = await buildRepo(repo, {
      task: { ignoreCommand: ['sh', '-c', 'env | sort; exit 1'], buildEnv: { SKIP_CHECK_TOKEN: 'visible-to-the-step' } },
    });
    expect(build.result, build.text).toBe('READY');
    expect(build.text).toContain('SKIP_CHECK_TOKEN=***');
    expect(build.text).not.toMatch(/BUILD_TASK|GIT_CONFIG|AWS_/);
  });
});
