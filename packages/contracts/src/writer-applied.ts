import { z } from 'zod';

/**
 * The build-event writer's word that it has applied a deployment's events: every event up to
 * `upToSeq` is in ClickHouse, every status among them is on the deployment row, and a READY
 * among them has its routes published. Published on a topic of its own (not `build-events`,
 * whose seq numbers belong to the build) after each batch that carried a status event; every
 * api-server replica reads it, so a live feed may release a terminal status whichever
 * replica's writer applied it. At-least-once and monotone per deployment: a repeat is harmless.
 */
export const WRITER_APPLIED_TOPIC = 'build-events-applied';

export const writerAppliedSchema = z.object({
  deploymentId: z.string().min(1),
  upToSeq: z.number().int().positive(),
});
export type WriterApplied = z.infer<typeof writerAppliedSchema>;
