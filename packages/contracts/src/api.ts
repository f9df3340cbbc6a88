import { z } from 'zod';
import { deploymentStatusSchema, logStreamSchema } from './build-events.ts';

const trimmed = (max: number) => z.string().trim().min(1).max(max);

/** Text a user types for a command; parsed into an argument array with `parseCommandLine`. */
const commandLine = z.string().trim().min(1).max(4096);

export const createProjectBodySchema = z.object({
  name: trimmed(63).regex(/[a-zA-Z0-9]/, 'name must contain a letter or digit'),
  gitUrl: trimmed(2048),
  productionBranch: trimmed(255).optional(),
  rootDirectory: trimmed(512).optional(),
  installCommand: commandLine.optional(),
  buildCommand: commandLine.optional(),
  outputDirectory: trimmed(512).optional(),
  spa: z.boolean().optional(),
});
export type CreateProjectBody = z.infer<typeof createProjectBodySchema>;

export const createDeploymentBodySchema = z.object({
  projectId: trimmed(64),
  /** Branch or tag; the project's production branch when absent. */
  ref: trimmed(255).optional(),
  commit: z.string().regex(/^[0-9a-f]{7,40}$/, 'commit must be a hex sha').optional(),
});
export type CreateDeploymentBody = z.infer<typeof createDeploymentBodySchema>;

export const projectSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  gitUrl: z.string(),
  productionBranch: z.string(),
  rootDirectory: z.string().nullable(),
  installCommand: z.string().nullable(),
  buildCommand: z.string().nullable(),
  outputDirectory: z.string().nullable(),
  spa: z.boolean(),
  url: z.string(),
  createdAt: z.string(),
});
export type Project = z.infer<typeof projectSchema>;

export const deploymentSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  status: deploymentStatusSchema,
  target: z.enum(['production', 'preview']),
  ref: z.string().nullable(),
  commit: z.string().nullable(),
  errorMessage: z.string().nullable(),
  url: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type Deployment = z.infer<typeof deploymentSchema>;

export const logLineSchema = z.object({
  seq: z.number().int(),
  ts: z.number(),
  stream: logStreamSchema,
  message: z.string(),
});
export type LogLine = z.infer<typeof logLineSchema>;

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
