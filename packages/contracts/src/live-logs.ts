import { z } from 'zod';
import { deploymentStatusSchema, logStreamSchema } from './build-events.ts';

/**
 * The socket.io protocol of live build logs, between the api-server and the dashboard.
 * A client emits `subscribe { deploymentId, afterSeq }` and gets an ack; it then receives
 * `log` and `status`, each once and in seq order (history after `afterSeq` first, then live),
 * until a terminal `status` ends the stream. A terminal status is sent only once the
 * deployment's row and routes say so too: a client that sees READY can open the URL at once.
 * New fields are optional, so a rolling deploy keeps old dashboards working.
 */

export const liveDeploymentIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'deploymentId must be an id');

export const subscribeRequestSchema = z.object({
  deploymentId: liveDeploymentIdSchema,
  /** The last seq the client already has; history resumes after it. */
  afterSeq: z.number().int().nonnegative().default(0),
});
/** What a client sends (`afterSeq` may be left out) and what the server works with. */
export type SubscribeRequestInput = z.input<typeof subscribeRequestSchema>;
export type SubscribeRequest = z.output<typeof subscribeRequestSchema>;

export const subscribeAckSchema = z.union([
  z.object({ ok: z.literal(true), status: deploymentStatusSchema }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type SubscribeAck = z.infer<typeof subscribeAckSchema>;

export const unsubscribeRequestSchema = z.object({ deploymentId: z.string() });
export type UnsubscribeRequest = z.infer<typeof unsubscribeRequestSchema>;

export const liveLogMessageSchema = z.object({
  deploymentId: z.string(),
  seq: z.number().int().positive(),
  ts: z.number().int().nonnegative(),
  stream: logStreamSchema,
  message: z.string(),
});
export type LiveLogMessage = z.infer<typeof liveLogMessageSchema>;

export const liveStatusMessageSchema = z.object({
  deploymentId: z.string(),
  /** A status the platform set without an event (a timeout) repeats the last seq the client has. */
  seq: z.number().int().nonnegative(),
  status: deploymentStatusSchema,
  detail: z.string().optional(),
});
export type LiveStatusMessage = z.infer<typeof liveStatusMessageSchema>;

/** The stream ended early (the client fell too far behind); it may resubscribe with its last seq. */
export const liveStreamErrorSchema = z.object({ deploymentId: z.string(), message: z.string() });
export type LiveStreamError = z.infer<typeof liveStreamErrorSchema>;

/** socket.io event map, server → client: `new Server<ClientToServerEvents, ServerToClientEvents>()`. */
export interface ServerToClientEvents {
  log: (message: LiveLogMessage) => void;
  status: (message: LiveStatusMessage) => void;
  'stream-error': (error: LiveStreamError) => void;
}

/** socket.io event map, client → server. The ack of `subscribe` is optional for the server to call. */
export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequestInput, ack?: (reply: SubscribeAck) => void) => void;
  unsubscribe: (request: UnsubscribeRequest) => void;
}
