import { deploymentPrefix as prefixOf } from '@platform/contracts';
import { assertValidKey, type ObjectStore } from './object-store.ts';

/** Where one deployment's build output lives: `deployments/<id>/…` (manifest included), for a valid id only. */
export const deploymentPrefix = (deploymentId: string): string => {
  assertValidKey(`deployments/${deploymentId}`);
  return prefixOf(deploymentId);
};

/**
 * Removes what one deployment stored, returning how many objects went. The one place a
 * deployment's files are deleted (retention, `DELETE /deployments/:id`, project deletion),
 * so when deployment contents become shared (stored once by hash, referenced from
 * manifests) the content collector replaces only this: remove the manifest and the
 * deployment's own keys here, and let a mark-and-sweep over the remaining manifests free
 * the contents nothing references. Safe to repeat: a second call finds nothing.
 * The manifest goes first, so a half-finished removal never leaves a manifest that names
 * files which are already gone.
 */
export async function removeDeploymentFiles(store: ObjectStore, deploymentId: string): Promise<number> {
  const prefix = deploymentPrefix(deploymentId);
  const keys = await store.list(prefix);
  const manifest = `${prefix}_manifest.json`;
  if (keys.includes(manifest)) await store.delete([manifest]);
  await store.delete(keys.filter((k) => k !== manifest));
  return keys.length;
}

/** Bytes one deployment's files take. */
export async function deploymentFilesBytes(store: ObjectStore, deploymentId: string): Promise<number> {
  return (await store.listDetailed(deploymentPrefix(deploymentId))).reduce((sum, o) => sum + o.size, 0);
}
