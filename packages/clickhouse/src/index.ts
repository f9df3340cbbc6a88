export { createClickHouse, type ClickHouse, type ClickHouseSettings } from './client.ts';
export { migrateClickHouse } from './migrations.ts';
export { createLogStore, type LogStore, type ReadLogsOptions } from './log-store.ts';
export { createRequestLogStore, type RequestLogStore, type AnalyticsQuery } from './request-log-store.ts';
