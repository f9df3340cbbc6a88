// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables (${Region}, ${aws:PrincipalTag/...}) are literal text here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The IAM documents in infra/iam are what an operator attaches in AWS: they must parse, never
// grant a wildcard action or resource, and scope the build's writes as the README says.

const DIR = join(import.meta.dirname, '..', 'infra', 'iam');
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
const policy = (name: string): Statement[] => JSON.parse(readFileSync(join(DIR, name), 'utf8')).Statement;
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('IAM policies', () => {
  it('parse, allow only, and grant no wildcard action or resource', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      for (const s of policy(file)) {
        expect(s.Effect, file).toBe('Allow');
        for (const action of list(s.Action)) expect(action, `${file} ${s.Sid}`).not.toMatch(/\*/);
        for (const resource of list(s.Resource)) expect(resource, `${file} ${s.Sid}`).not.toBe('*');
      }
    }
  });

  it('let the api-server run, watch and stop only build tasks of the build cluster, and pass only the build roles to ECS', () => {
    const api = policy('api-server-policy.json');
    const run = api.find((s) => list(s.Action).includes('ecs:RunTask'))!;
    expect(run.Resource).toBe('arn:aws:ecs:${Region}:${AccountId}:task-definition/${BuildTaskFamily}:*');
    expect(run.Condition).toEqual({ ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:${Region}:${AccountId}:cluster/${BuildCluster}' } });
    const stop = api.find((s) => list(s.Action).includes('ecs:StopTask'))!;
    expect(list(stop.Action).sort()).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(stop.Resource).toBe('arn:aws:ecs:${Region}:${AccountId}:task/${BuildCluster}/*');
    const pass = api.find((s) => list(s.Action).includes('iam:PassRole'))!;
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    expect(list(pass.Resource)).toEqual(['arn:aws:iam::${AccountId}:role/${BuildTaskRole}', 'arn:aws:iam::${AccountId}:role/${BuildExecutionRole}']);
  });

  it('let a build write only under its own deployment with the upload role, and never touch routes', () => {
    const upload = policy('build-upload-role-policy.json');
    const writes = upload.filter((s) => list(s.Action).includes('s3:PutObject')).flatMap((s) => list(s.Resource));
    expect(writes.sort()).toEqual([
      'arn:aws:s3:::${Bucket}/build-cache/${aws:PrincipalTag/project-id}/*',
      'arn:aws:s3:::${Bucket}/content/${aws:PrincipalTag/project-id}/*',
      'arn:aws:s3:::${Bucket}/deployments/${aws:PrincipalTag/deployment-id}/*',
    ]);
    // Content is write-once: a put is allowed only with If-None-Match (an existing object is never replaced).
    const content = upload.find((s) => list(s.Resource).some((r) => r.includes('/content/')) && list(s.Action).includes('s3:PutObject'))!;
    expect(content.Condition).toEqual({ Null: { 's3:if-none-match': 'false' } });
    const trust = policy('build-upload-role-trust.json')[0]!;
    expect(trust.Condition!['ForAllValues:StringEquals']).toEqual({ 'aws:TagKeys': ['deployment-id', 'project-id'] });
    for (const file of ['build-upload-role-policy.json', 'build-task-role-policy.json']) {
      const resources = policy(file).flatMap((s) => list(s.Resource));
      expect(
        resources.some((r) => r.includes('/routes/')),
        file,
      ).toBe(false);
      expect(
        policy(file).some((s) => list(s.Action).includes('s3:DeleteObject')),
        file,
      ).toBe(false);
    }
  });
});
