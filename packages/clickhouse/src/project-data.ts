import type { ClickHouse } from './client.ts';

/**
 * What ClickHouse holds of a project, for storage usage and deletion: its build logs
 * (`log_events`) and its request logs (`request_logs`). Deletions are mutations that run
 * synchronously (`mutations_sync`), so a deletion step that returned is done, and a repeat
 * after a restart finds nothing left.
 */
export interface ProjectDataStore {
  /** Uncompressed bytes of the project's stored build-log lines (what the log view reads back). */
  logBytes(projectId: string): Promise<number>;
  deleteDeploymentLogs(deploymentIds: readonly string[]): Promise<void>;
  /** Every build-log line and request-log row of the project. */
  deleteProject(projectId: string): Promise<void>;
}

export function createProjectDataStore(client: ClickHouse): ProjectDataStore {
  return {
    async logBytes(projectId) {
      const result = await client.query({
        query: 'SELECT sum(length(message)) + count() * 32 AS bytes FROM log_events WHERE project_id = {projectId:String}',
        query_params: { projectId },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<{ bytes: string | number }>();
      return Number(row?.bytes ?? 0);
    },

    async deleteDeploymentLogs(deploymentIds) {
      if (deploymentIds.length === 0) return;
      await client.command({
        query: 'ALTER TABLE log_events DELETE WHERE deployment_id IN {ids:Array(String)}',
        query_params: { ids: [...deploymentIds] },
        clickhouse_settings: { mutations_sync: '1' },
      });
    },

    async deleteProject(projectId) {
      for (const table of ['log_events', 'request_logs']) {
        await client.command({
          query: `ALTER TABLE ${table} DELETE WHERE project_id = {projectId:String}`,
          query_params: { projectId },
          clickhouse_settings: { mutations_sync: '1' },
        });
      }
    },
  };
}
