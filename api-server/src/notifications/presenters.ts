import type { NotificationEndpoint } from '@platform/contracts';
import { iso } from '../http/iso.ts';
import type { DeliveryHistoryRow, NotificationEndpointRow } from './notifications-repo.ts';

export const presentEndpoint = (row: NotificationEndpointRow): NotificationEndpoint => ({
  id: row.id,
  url: row.url,
  events: row.events,
  createdAt: iso(row.created_at)!,
});

export const presentDelivery = (row: DeliveryHistoryRow) => ({
  id: row.id,
  event: row.event,
  status: row.status,
  attempts: row.attempts,
  responseStatus: row.response_status,
  lastError: row.last_error,
  createdAt: iso(row.created_at)!,
  deliveredAt: row.delivered_at ? iso(row.delivered_at) : null,
});
