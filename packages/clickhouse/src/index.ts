export { createClickHouse, type ClickHouse, type ClickHouseSettings } from './client.ts';
export { migrateClickHouse, currentLogTtlDays } from './migrations.ts';
export { createLogStore, MAX_READ_LIMIT, type LogStore, type ReadLogsOptions, type ReadEventsOptions, type EventSummary } from './log-store.ts';
export { createRequestLogStore, type RequestLogStore, type AnalyticsQuery } from './request-log-store.ts';
export { createProjectDataStore, type ProjectDataStore } from './project-data.ts';
