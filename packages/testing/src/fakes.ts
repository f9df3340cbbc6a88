/**
 * The two stand-ins of the platform harness, for what a test must control: a ClickHouse
 * client whose inserts can be made to fail or lag (the real client underneath), and a runner
 * that runs nothing (builds are then driven by publishing their events).
 */
import type { ClickHouse } from '@platform/clickhouse';
import type { Runner } from '@platform/runner';

/** Switches on the ClickHouse client that the harness hands the api-server. */
export class ClickHouseFaults {
  /** While true, every insert throws (ClickHouse down). */
  failInserts = false;
  /** Every insert waits this long first (a writer lagging behind the live feed). */
  insertDelayMs = 0;
  failedInserts = 0;
  insertedRows = 0;
}

/** The real client, with `insert` routed through `faults`; queries go straight through. */
export function faultyClickHouse(client: ClickHouse, faults: ClickHouseFaults): ClickHouse {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'insert') {
        return async (params: Parameters<ClickHouse['insert']>[0]) => {
          if (faults.insertDelayMs > 0) await new Promise((r) => setTimeout(r, faults.insertDelayMs));
          if (faults.failInserts) {
            faults.failedInserts++;
            throw new Error('injected fault: ClickHouse is unavailable');
          }
          const result = await target.insert(params);
          faults.insertedRows += Array.isArray(params.values) ? params.values.length : 0;
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Builds are driven by publishing their events directly; this runner only pretends to run them. */
export function idleRunner(): Runner {
  return {
    name: 'idle-test-runner',
    isolation: { singleUser: false, summary: 'idle test runner: runs nothing', problems: [] },
    start: async (task) => ({ taskId: `idle-${task.deploymentId}` }),
    stop: async () => {},
    describe: async () => ({ state: 'running' }),
    close: async () => {},
  };
}
