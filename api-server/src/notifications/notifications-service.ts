import type { CreateNotificationEndpointBody } from '@platform/contracts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { randomSecret } from '../crypto/tokens.ts';
import { EndpointNotFound, PrivateEndpointUrl, TooManyEndpoints } from './errors.ts';
import type { DeliveryHistoryRow, NotificationEndpointRow, NotificationsRepo } from './notifications-repo.ts';
import { assertPublicUrl } from './ssrf.ts';

/** Endpoints a project has at most. */
const MAX_ENDPOINTS = 20;

/** The associated data of an endpoint's sealed signing secret (see SecretBox). */
export const endpointSecretContext = (endpointId: string) => `notify:${endpointId}`;

/** A project's notification endpoints: add (with a signing secret), list, history, remove. */
export class NotificationsService {
  constructor(private readonly deps: { notifications: NotificationsRepo; box: SecretBox; allowPrivateUrls: boolean }) {}

  /** The new endpoint and its signing secret, which exists in clear only in this answer. */
  async createEndpoint(projectId: string, body: CreateNotificationEndpointBody): Promise<{ endpoint: NotificationEndpointRow; secret: string }> {
    if (!this.deps.allowPrivateUrls) {
      try {
        await assertPublicUrl(body.url);
      } catch (err) {
        throw new PrivateEndpointUrl((err as Error).message);
      }
    }
    if ((await this.deps.notifications.countEndpoints(projectId)) >= MAX_ENDPOINTS) throw new TooManyEndpoints(MAX_ENDPOINTS);
    const secret = randomSecret('whsec');
    const endpoint = await this.deps.notifications.createEndpoint(projectId, body.url, body.events, (id) =>
      this.deps.box.seal(secret, endpointSecretContext(id)),
    );
    return { endpoint, secret };
  }

  listEndpoints(projectId: string): Promise<NotificationEndpointRow[]> {
    return this.deps.notifications.listEndpoints(projectId);
  }

  listDeliveries(projectId: string, endpointId: string): Promise<DeliveryHistoryRow[]> {
    return this.deps.notifications.listDeliveries(projectId, endpointId);
  }

  async deleteEndpoint(projectId: string, endpointId: string): Promise<void> {
    if (!(await this.deps.notifications.deleteEndpoint(projectId, endpointId))) throw new EndpointNotFound();
  }
}
