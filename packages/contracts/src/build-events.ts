import { z } from 'zod';

export const BUILD_EVENTS_TOPIC = 'build-events';
export const REQUEST_LOGS_TOPIC = 'request-logs';

export const deploymentStatusSchema = z.enum(['QUEUED', 'BUILDING', 'READY', 'ERROR', 'CANCELED']);
export type DeploymentStatus = z.infer<typeof deploymentStatusSchema>;
export const TERMINAL_STATUSES: readonly DeploymentStatus[] = ['READY', 'ERROR', 'CANCELED'];
export const isTerminalStatus = (s: DeploymentStatus): boolean => TERMINAL_STATUSES.includes(s);

const eventBase = {
  deploymentId: z.string().min(1),
  projectId: z.string().min(1),
  /** Starts at 1, +1 per event of the deployment; consumers dedupe on (deploymentId, seq). */
  seq: z.number().int().positive(),
  /** Milliseconds since the epoch, set by the emitter. */
  ts: z.number().int().nonnegative(),
  /**
   * HMAC-SHA256 (hex) of the event's other fields under its deployment's key (see
   * `@platform/event-bus`'s signing). Optional for a rolling deploy; a consumer with a signing
   * secret configured refuses an event without it.
   */
  sig: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
};

export const logStreamSchema = z.enum(['stdout', 'stderr', 'system']);
export type LogStream = z.infer<typeof logStreamSchema>;

export const logEventSchema = z.object({
  type: z.literal('log'),
  ...eventBase,
  stream: logStreamSchema,
  message: z.string(),
});
export type LogEvent = z.infer<typeof logEventSchema>;

export const statusEventSchema = z.object({
  type: z.literal('status'),
  ...eventBase,
  status: deploymentStatusSchema,
  /** Why the status changed, e.g. the failing step for ERROR. */
  detail: z.string().optional(),
  /** The commit being built, once known (sent with BUILDING after the clone). */
  commit: z.string().optional(),
  /** The exact Node.js version the build ran (`22.11.0`), on the terminal status once known. */
  nodeVersion: z.string().max(64).optional(),
});
export type StatusEvent = z.infer<typeof statusEventSchema>;

export const buildEventSchema = z.discriminatedUnion('type', [logEventSchema, statusEventSchema]);
export type BuildEvent = z.infer<typeof buildEventSchema>;
