import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomId } from '@platform/contracts';
import { MOTO_CREDENTIALS, startMoto } from '@platform/testing/moto';
import { createStsUploadCredentials } from './upload-credentials.ts';

// Against moto's STS (the shared moto on :4566, ECS_ENDPOINT, or one started here). moto
// mints real-looking sessions but enforces no IAM policy by default, so what is tested here
// is what can be: the role and session tags on the minted session as STS received them, the
// session's identity, its lifetime, and (below) the policy document those tags feed.

const ROLE_ARN = 'arn:aws:iam::123456789012:role/platform-build-upload';
let moto: Awaited<ReturnType<typeof startMoto>>;
beforeAll(async () => {
  moto = await startMoto(process.env);
});
afterAll(() => moto?.stop());

describe('per-deployment upload credentials (sts:AssumeRole with session tags)', () => {
  it("mints a session of the upload role tagged with the deployment's and project's ids, for its timeout", async () => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    // What STS was asked: captured on the wire, since moto keeps session tags to itself.
    const sent: Record<string, unknown>[] = [];
    sts.middlewareStack.add(
      (next) => async (args) => {
        sent.push(Object.fromEntries(new URLSearchParams(String((args.request as { body?: unknown }).body))));
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const minter = createStsUploadCredentials({ roleArn: ROLE_ARN, sts });
    const deploymentId = randomId(20);
    const before = Date.now();
    const minted = await minter.mint({ deploymentId, projectId: 'prj_a', validForMs: 15 * 60_000 });

    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      Action: 'AssumeRole',
      RoleArn: ROLE_ARN,
      RoleSessionName: `deployment-${deploymentId}`,
      DurationSeconds: String(15 * 60 + 300),
      'Tags.member.1.Key': 'deployment-id',
      'Tags.member.1.Value': deploymentId,
      'Tags.member.2.Key': 'project-id',
      'Tags.member.2.Value': 'prj_a',
    });
    // No tag beyond the two the trust policy allows, nor any transitive or inline policy widening it.
    expect(Object.keys(sent[0]!).filter((k) => /^(Tags\.member\.[3-9]|TransitiveTagKeys|Policy|PolicyArns)/.test(k))).toEqual([]);

    expect(minted.sessionToken).toBeTruthy();
    expect(minted.accessKeyId).not.toBe(MOTO_CREDENTIALS.accessKeyId);
    expect(minted.expiresAt).toBeGreaterThan(before + 15 * 60_000);
    expect(minted.expiresAt).toBeLessThanOrEqual(Date.now() + 21 * 60_000);

    // Whoever holds them is the upload role's session for this deployment, not the platform.
    const asBuild = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: minted });
    const identity = await asBuild.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(`arn:aws:sts::123456789012:assumed-role/platform-build-upload/deployment-${deploymentId}`);
    asBuild.destroy();
    minter.close();
    sts.destroy();
  });

  it('keeps a session within STS bounds: at least 15 minutes, at most an hour (role chaining)', async () => {
    const sts = new STSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    const asked: string[] = [];
    sts.middlewareStack.add(
      (next) => async (args) => {
        asked.push(new URLSearchParams(String((args.request as { body?: unknown }).body)).get('DurationSeconds')!);
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const minter = createStsUploadCredentials({ roleArn: ROLE_ARN, sts });
    await minter.mint({ deploymentId: randomId(20), projectId: 'p', validForMs: 60_000 });
    await minter.mint({ deploymentId: randomId(20), projectId: 'p', validForMs: 5 * 3_600_000 });
    expect(asked).toEqual(['900', '3600']);
    sts.destroy();
  });
});

/**
 * The upload role's policy as IAM would read it for a session tagged deployment-id=A,
 * project-id=P: policy variables substituted, resource patterns matched (`*` any run of
 * characters, `?` one). moto does not evaluate it; this checks the document itself.
 */
describe('the upload role policy (infra/iam/build-upload-role-policy.json)', () => {
  const policy = JSON.parse(readFileSync(join(import.meta.dirname, '../../../infra/iam/build-upload-role-policy.json'), 'utf8')) as {
    Statement: { Effect: string; Action: string | string[]; Resource: string; Condition?: unknown }[];
  };
  const tags = { 'deployment-id': 'dplaaaaaaaa', 'project-id': 'prj_a' };
  /** `${aws:PrincipalTag/<name>}` and `${Bucket}` as the policy spells them (built, so no linter mistakes them for template slots). */
  const variable = (name: string) => `$\{${name}}`;
  const substitute = (s: string) =>
    s.replace(variable('Bucket'), 'platform-builds').replace(/\$\{aws:PrincipalTag\/([a-z-]+)\}/g, (_, tag: keyof typeof tags) => tags[tag]);
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
  const allows = (action: string, key: string) =>
    policy.Statement.some(
      (s) => s.Effect === 'Allow' && [s.Action].flat().includes(action) && glob(substitute(s.Resource)).test(`arn:aws:s3:::platform-builds/${key}`),
    );

  it("lets the session write its own deployment's files and its own project's cache", () => {
    expect(allows('s3:PutObject', 'deployments/dplaaaaaaaa/index.html')).toBe(true);
    expect(allows('s3:PutObject', 'deployments/dplaaaaaaaa/_manifest.json')).toBe(true);
    expect(allows('s3:GetObject', 'build-cache/prj_a/npm.tar.zst')).toBe(true);
    expect(allows('s3:PutObject', `content/prj_a/${'a'.repeat(64)}`)).toBe(true);
  });

  it("refuses another deployment's files, another project's cache, routes, reads of output and deletes", () => {
    expect(allows('s3:PutObject', 'deployments/dplbbbbbbbb/index.html')).toBe(false);
    // A deployment id that merely starts with A's.
    expect(allows('s3:PutObject', 'deployments/dplaaaaaaaa2/index.html')).toBe(false);
    expect(allows('s3:PutObject', 'build-cache/prj_b/npm.tar.zst')).toBe(false);
    expect(allows('s3:GetObject', 'build-cache/prj_b/npm.tar.zst')).toBe(false);
    expect(allows('s3:PutObject', 'routes/victim.example.com.json')).toBe(false);
    expect(allows('s3:PutObject', `content/prj_b/${'a'.repeat(64)}`)).toBe(false);
    expect(allows('s3:GetObject', `content/prj_b/${'a'.repeat(64)}`)).toBe(false);
    expect(allows('s3:GetObject', 'deployments/dplbbbbbbbb/index.html')).toBe(false);
    expect(allows('s3:DeleteObject', 'deployments/dplaaaaaaaa/index.html')).toBe(false);
  });

  it('names the deployment and project only through the session tags, never a wildcard in their place', () => {
    for (const s of policy.Statement) {
      if (s.Resource.includes('/deployments/')) expect(s.Resource).toContain(`/deployments/${variable('aws:PrincipalTag/deployment-id')}/`);
      if (s.Resource.includes('/build-cache/')) expect(s.Resource).toContain(`/build-cache/${variable('aws:PrincipalTag/project-id')}/`);
      if (s.Resource.includes('/content/')) expect(s.Resource).toContain(`/content/${variable('aws:PrincipalTag/project-id')}/`);
    }
  });
});
