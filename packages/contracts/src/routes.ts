import { z } from 'zod';

/** `routes/<hostname>.json`: which deployment a hostname serves. The proxy reads only these. */
export const routeRecordSchema = z.object({
  deploymentId: z.string().min(1),
  projectId: z.string().min(1),
  /** Serve `index.html` for unknown paths (single-page apps). */
  spa: z.boolean().default(false),
  updatedAt: z.string(),
});
export type RouteRecord = z.infer<typeof routeRecordSchema>;

export const routeKey = (hostname: string): string => `routes/${hostname}.json`;
export const deploymentPrefix = (deploymentId: string): string => `deployments/${deploymentId}/`;
export const manifestKey = (deploymentId: string): string => `deployments/${deploymentId}/_manifest.json`;
