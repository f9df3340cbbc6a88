import { describe, expect, it } from 'vitest';
import {
  cancelDeploymentBodySchema,
  createApiTokenBodySchema,
  createDeploymentBodySchema,
  createDeployHookBodySchema,
  createEnvVarBodySchema,
  listDeploymentsQuerySchema,
  logsQuerySchema,
  projectBodySchemas,
  redeployBodySchema,
  signupBodySchema,
  updateProjectBodySchema,
} from './api.ts';
import { parseCommandLine } from './commands.ts';
import { validateGitUrl } from './git-url.ts';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe('request schemas: what the spec says is what is accepted', () => {
  it('counts a token name in characters before trimming: 100 fit, 101 do not, even with the last one a space', () => {
    expect(createApiTokenBodySchema.parse({ name: 'x'.repeat(100) }).name).toHaveLength(100);
    expect(ok(createApiTokenBodySchema, { name: 'x'.repeat(101) })).toBe(false);
    expect(ok(createApiTokenBodySchema, { name: `${'x'.repeat(100)} ` })).toBe(false);
    // JSON Schema counts code points: 100 emoji are 100 characters (200 UTF-16 units).
    expect(ok(createApiTokenBodySchema, { name: '💥'.repeat(100) })).toBe(true);
    expect(ok(createApiTokenBodySchema, { name: '💥'.repeat(101) })).toBe(false);
    expect(createApiTokenBodySchema.parse({ name: '  ci  ' }).name).toBe('ci');
    for (const blank of ['', ' ', '\t\n', '\u00a0', 'a\u0000b']) expect(ok(createApiTokenBodySchema, { name: blank }), JSON.stringify(blank)).toBe(false);
  });

  it('refuses a ref git would refuse (control characters, spaces, .., leading -), not only in the build', () => {
    for (const ref of ['main', 'feature/new-look', 'v1.2.3', 'release-2026', 'ünïcode'])
      expect(ok(createDeploymentBodySchema, { projectId: 'p', ref }), ref).toBe(true);
    for (const ref of [
      'main\u0001',
      'a\u007f',
      'a b',
      'a\tb',
      '-x',
      '/a',
      'a/',
      'a.',
      'a.lock',
      'a..b',
      'a@{1}',
      'a//b',
      'a/.b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[b',
      'a\\b',
      '',
    ]) {
      expect(ok(createDeploymentBodySchema, { projectId: 'p', ref }), JSON.stringify(ref)).toBe(false);
    }
    expect(ok(createDeployHookBodySchema, { name: 'cms', branch: 'ma\u0000in' })).toBe(false);
    expect(ok(updateProjectBodySchema, { productionBranch: 'ma\nin' })).toBe(false);
  });

  it('accepts exactly the command lines parseCommandLine accepts', () => {
    const lines = [
      'npm run build',
      '  npm   ci  ',
      'npm run build -- --mode "prod"',
      "echo 'a b'",
      'echo "say \\"hi\\""',
      'echo a|b',
      "''x",
      'a""',
      'echo | grep',
      'a ; b',
      '$HOME',
      '"unterminated',
      "'unterminated",
      "''",
      '""',
      'a "" b',
      'x "\\\\"',
      'x "\\"',
      Array.from({ length: 64 }, (_, i) => `a${i}`).join(' '),
      Array.from({ length: 65 }, (_, i) => `a${i}`).join(' '),
    ];
    const schema = projectBodySchemas({ localRoots: [] }).update;
    for (const line of lines) {
      let parses = true;
      try {
        parseCommandLine(line.trim());
      } catch {
        parses = false;
      }
      expect(ok(schema, { buildCommand: line }), JSON.stringify(line)).toBe(parses);
    }
  });

  it('accepts exactly the git URLs validateGitUrl accepts under the same policy', () => {
    const urls = [
      'https://github.com/a/b.git',
      'HTTPS://github.com/a/b',
      'https://-x/a',
      'https://host',
      'ssh://git@host/a/b',
      'ssh://host/repo',
      'git@github.com:org/repo.git',
      '-git@x:y',
      'ext::sh -c id',
      'http://127.0.0.1:8080/x.git',
      'http://localhost/x',
      'http://example.com/x',
      'ftp://x/y',
      '/srv/repos/site',
      '/srv/repos',
      '/srv/reposx',
      '/srv/repos/../etc',
      'file:///srv/repos/site',
      '/etc/passwd',
      ' https://github.com/a/b ',
      'https://github.com/a b',
    ];
    for (const localRoots of [[], ['/srv/repos']]) {
      const schema = projectBodySchemas({ localRoots }).update;
      for (const url of urls) {
        let valid = true;
        try {
          validateGitUrl(url.trim(), { localRoots });
        } catch {
          valid = false;
        }
        expect(ok(schema, { gitUrl: url }), `${JSON.stringify(url)} with roots ${JSON.stringify(localRoots)}`).toBe(valid);
      }
    }
  });

  it('has optional bodies only where a default stands in: redeploy and cancel, not a project update', () => {
    expect(redeployBodySchema.parse(undefined)).toEqual({ useBuildCache: true });
    expect(cancelDeploymentBodySchema.parse(undefined)).toEqual({});
    expect(ok(updateProjectBodySchema, undefined)).toBe(false);
    expect(ok(createEnvVarBodySchema, { key: 'PATH', value: 'x' })).toBe(false);
    expect(ok(signupBodySchema, { email: 'a@b', password: 'nul\u0000inside' })).toBe(false);
    expect(signupBodySchema.parse({ email: ' Me@Example.test ', password: 'x'.repeat(10) }).email).toBe('me@example.test');
    const create = projectBodySchemas({ localRoots: [] }).create;
    for (const slug of ['api', 'site-git', 'a-git-b', 'site-abcdefghi']) expect(ok(create, { name: 'n', gitUrl: 'https://h/r', slug }), slug).toBe(false);
    expect(ok(create, { name: 'n', gitUrl: 'https://h/r', slug: 'my-site' })).toBe(true);
  });

  it('parses query integers as decimal text only, within bounds', () => {
    expect(logsQuerySchema.parse({})).toEqual({ afterSeq: 0 });
    expect(logsQuerySchema.parse({ afterSeq: '12', limit: '100000', q: 'warn', format: 'text' })).toEqual({
      afterSeq: 12,
      limit: 100_000,
      q: 'warn',
      format: 'text',
    });
    for (const bad of [
      { afterSeq: '-1' },
      { afterSeq: '' },
      { afterSeq: '1e3' },
      { afterSeq: '٣' },
      { limit: '0' },
      { limit: '100001' },
      { limit: ['1', '2'] },
      { q: 'x'.repeat(257) },
      { format: 'xml' },
    ]) {
      expect(ok(logsQuerySchema, bad), JSON.stringify(bad)).toBe(false);
    }
    expect(listDeploymentsQuerySchema.parse({ status: 'ready, Error' }).status).toEqual(['READY', 'ERROR']);
    expect(ok(listDeploymentsQuerySchema, { status: 'DONE' })).toBe(false);
    expect(ok(listDeploymentsQuerySchema, { limit: ' 5' })).toBe(false);
  });
});
