import { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { S3Credentials } from '@platform/contracts';

/** What one build's upload credentials are scoped to. */
export interface UploadScope {
  deploymentId: string;
  projectId: string;
  /** How long the build may run (its timeout): the credentials last that long, and a margin. */
  validForMs: number;
}

/** Mints S3 credentials for one build, good for its own deployment's prefixes only. */
export interface UploadCredentialMinter {
  mint(scope: UploadScope): Promise<S3Credentials & { expiresAt: number }>;
  close(): void;
}

export interface StsUploadCredentialsOptions {
  /** The upload role (S3_UPLOAD_ROLE_ARN), its policy and trust in `infra/iam/`. */
  roleArn: string;
  /** Region, endpoint (moto), credentials; the SDK's default chain when absent. */
  client?: STSClientConfig;
  /** An existing client (tests). */
  sts?: Pick<STSClient, 'send' | 'destroy'>;
  /**
   * Longest session asked for. Default 3600: an api-server that itself runs on an assumed
   * role (an ECS task role) is role chaining, which AWS caps at one hour.
   */
  maxSeconds?: number;
}

/** The session tags the upload role's policy names as `${aws:PrincipalTag/...}`; its trust policy demands exactly these. */
export const UPLOAD_SESSION_TAGS = { deploymentId: 'deployment-id', projectId: 'project-id' } as const;

/** STS's floor on a session's duration. */
const MIN_SESSION_SECONDS = 900;
/** Past the timeout: the upload and the last events after a build that used all of its time. */
const MARGIN_SECONDS = 300;

/**
 * Per-deployment upload credentials (see `infra/iam/README.md`): `sts:AssumeRole` on the
 * upload role with the session tags `deployment-id` and `project-id`, so the role's policy
 * lets the session write `deployments/<that id>/*` and use `build-cache/<that project>/*`
 * and nothing else, for the build's timeout. The session name carries the deployment id, so
 * CloudTrail names the build behind every write.
 */
export function createStsUploadCredentials(options: StsUploadCredentialsOptions): UploadCredentialMinter {
  const sts = options.sts ?? new STSClient(options.client ?? {});
  const maxSeconds = options.maxSeconds ?? 3_600;
  return {
    async mint(scope) {
      const seconds = Math.min(maxSeconds, Math.max(MIN_SESSION_SECONDS, Math.ceil(scope.validForMs / 1000) + MARGIN_SECONDS));
      const result = await sts.send(
        new AssumeRoleCommand({
          RoleArn: options.roleArn,
          RoleSessionName: `deployment-${scope.deploymentId}`.slice(0, 64),
          DurationSeconds: seconds,
          Tags: [
            { Key: UPLOAD_SESSION_TAGS.deploymentId, Value: scope.deploymentId },
            { Key: UPLOAD_SESSION_TAGS.projectId, Value: scope.projectId },
          ],
        }),
      );
      const c = result.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('STS AssumeRole returned no credentials');
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiresAt: c.Expiration ? c.Expiration.getTime() : Date.now() + seconds * 1000,
      };
    },
    close() {
      if (!options.sts) sts.destroy();
    },
  };
}
