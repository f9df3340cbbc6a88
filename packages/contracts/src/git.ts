/** The git integration's API: the GitHub App, a project's repository and credentials, pull requests. */
import { z } from 'zod';

export const githubAppInfoSchema = z.object({
  /** False when the operator has not configured a GitHub App (GITHUB_APP_ID...). */
  configured: z.boolean(),
  /** Where a user installs the App on GitHub; GitHub then sends them to the setup URL with `installation_id` and `code`. */
  installUrl: z.string().nullable(),
});
export type GithubAppInfo = z.infer<typeof githubAppInfoSchema>;

/** GitHub's setup redirect, as the dashboard forwards it: the installation and the user's sign-in code. */
export const connectInstallationBodySchema = z.strictObject({
  installationId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  code: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[\x21-\x7e]+$/, 'must be the code GitHub sent (printable ASCII)'),
});
export type ConnectInstallationBody = z.infer<typeof connectInstallationBodySchema>;

export const githubInstallationSchema = z.object({ id: z.number().int(), accountLogin: z.string(), createdAt: z.string() });
export type GithubInstallation = z.infer<typeof githubInstallationSchema>;

export const githubRepositorySchema = z.object({
  id: z.number().int(),
  fullName: z.string(),
  private: z.boolean(),
  defaultBranch: z.string(),
  cloneUrl: z.string(),
});
export type GithubRepository = z.infer<typeof githubRepositorySchema>;

/** Connects a project to a repository of one of the user's installations. */
export const linkGithubRepositoryBodySchema = z.strictObject({
  installationId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  repositoryId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
export type LinkGithubRepositoryBody = z.infer<typeof linkGithubRepositoryBodySchema>;

export const githubLinkSchema = z.object({ installationId: z.number().int(), repositoryId: z.number().int(), fullName: z.string() });
export type GithubLink = z.infer<typeof githubLinkSchema>;

/** `https-token`: a token sent as HTTP basic auth; `ssh-key`: the platform generates a deploy key. */
export const setGitCredentialsBodySchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('https-token'),
    token: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  }),
  z.strictObject({ kind: z.literal('ssh-key') }),
]);
export type SetGitCredentialsBody = z.infer<typeof setGitCredentialsBodySchema>;

export const gitCredentialsSchema = z.object({
  kind: z.enum(['https-token', 'ssh-key']),
  /** The deploy key's public half (OpenSSH format), to add to the repository with read access. */
  publicKey: z.string().nullable(),
  createdAt: z.string(),
});
export type GitCredentials = z.infer<typeof gitCredentialsSchema>;

export const pullRequestSchema = z.object({
  number: z.number().int(),
  title: z.string(),
  url: z.string().nullable(),
  branch: z.string(),
  headSha: z.string(),
  fork: z.boolean(),
  state: z.enum(['open', 'closed']),
  /** A fork's head commit that builds once an owner approves it. */
  awaitingApproval: z.string().nullable(),
  /** `<project>-pr-<number>`: the newest ready preview of the pull request. */
  aliasUrl: z.string(),
  updatedAt: z.string(),
});
export type PullRequest = z.infer<typeof pullRequestSchema>;
