import { contentKey, manifestKey, type Manifest } from '@platform/contracts';
import { ContentStore, type ObjectStore, type StoredContent } from '@platform/object-store';

/**
 * The uploads feature's storage: each project's content namespace (`content/<projectId>/`,
 * write-once) and the manifests of deployments made from uploads. No metadata DB table: the
 * object store is the one record of what content exists.
 */
export class UploadsRepo {
  constructor(private readonly store: ObjectStore) {}

  /** The project's content as one listing (what is stored, with sizes and variants). */
  contents(projectId: string): Promise<ContentStore> {
    return new ContentStore(this.store, projectId).load();
  }

  /**
   * Stores verified bytes, write-once, with variants when `compress`. No listing first: the
   * client asked which contents are missing, and a put of a stored key changes nothing.
   */
  save(projectId: string, body: Buffer, hash: string, compress: boolean): Promise<StoredContent> {
    return new ContentStore(this.store, projectId).save(body, compress, hash);
  }

  /** Whether this content is stored (a listing of its own key and variants only: cheap). */
  async has(projectId: string, hash: string, size: number): Promise<boolean> {
    return (await this.store.listSizes(contentKey(projectId, hash))).get(contentKey(projectId, hash)) === size;
  }

  read(projectId: string, hash: string): Promise<Buffer | null> {
    return this.store.getBuffer(contentKey(projectId, hash));
  }

  async writeManifest(manifest: Manifest): Promise<void> {
    await this.store.put(manifestKey(manifest.deploymentId), JSON.stringify(manifest), { contentType: 'application/json', cacheControl: 'no-store' });
  }
}
