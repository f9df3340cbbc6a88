import type { BuildEvent, LogLine } from '@platform/contracts';
import type { ClickHouse } from './client.ts';

/** Upper bound on one read; callers page with `afterSeq` for more. */
export const MAX_READ_LIMIT = 100_000;

export interface ReadLogsOptions {
  /** Only lines with a greater seq (resume point). */
  afterSeq?: number;
  /** At most this many lines (default and cap: MAX_READ_LIMIT). */
  limit?: number;
  /** Only lines whose message contains this text, ignoring case. */
  contains?: string;
}

export interface ReadEventsOptions {
  /** Only events with a greater seq. */
  afterSeq?: number;
  /** Only events with a smaller seq. */
  beforeSeq?: number;
  limit?: number;
}

/** Build logs in ClickHouse `log_events`: every build event, log lines and status changes. */
export interface LogStore {
  /** Idempotent on (deploymentId, seq): a redelivered event collapses into the row it repeats. */
  insert(events: readonly BuildEvent[]): Promise<void>;
  /** Log lines (not status events) of one deployment, ordered by seq, without duplicates. */
  read(deploymentId: string, options?: ReadLogsOptions): Promise<LogLine[]>;
  /**
   * Every stored event of one deployment (log and status), ordered by seq, without
   * duplicates: what live delivery replays, since its seq numbers have no holes.
   */
  readEvents(deploymentId: string, options?: ReadEventsOptions): Promise<BuildEvent[]>;
  /**
   * What the stream of one deployment already holds: its highest stored seq (0 when none) and
   * whether a terminal status event is among the stored events. The reconciler asks this to
   * tell a build that ended without a word from one whose last events are still in flight.
   */
  eventSummary(deploymentId: string): Promise<EventSummary>;
}

export interface EventSummary {
  maxSeq: number;
  terminal: boolean;
}

interface EventRow {
  project_id: string;
  seq: string;
  ts: string;
  type: 'log' | 'status';
  stream: LogLine['stream'];
  status: string;
  message: string;
}

export function createLogStore(client: ClickHouse): LogStore {
  return {
    async insert(events) {
      if (events.length === 0) return;
      await client.insert({
        table: 'log_events',
        format: 'JSONEachRow',
        values: events.map((e) => ({
          deployment_id: e.deploymentId,
          project_id: e.projectId,
          seq: e.seq,
          ts: clickhouseTime(e.ts),
          type: e.type,
          stream: e.type === 'log' ? e.stream : 'system',
          status: e.type === 'status' ? e.status : '',
          message: e.type === 'log' ? e.message : (e.detail ?? ''),
        })),
      });
    },

    async read(deploymentId, options = {}) {
      const contains = options.contains ?? '';
      const result = await client.query({
        // ORDER BY + LIMIT 1 BY: duplicates not yet merged away by ReplacingMergeTree are
        // dropped here; the primary key (deployment_id, seq) makes the range read cheap.
        query: `
          SELECT seq, toUnixTimestamp64Milli(ts) AS ts, stream, message
          FROM log_events
          WHERE deployment_id = {deploymentId:String} AND type = 'log' AND seq > {afterSeq:UInt64}
            ${contains ? 'AND positionCaseInsensitiveUTF8(message, {contains:String}) > 0' : ''}
          ORDER BY seq
          LIMIT 1 BY seq
          LIMIT {limit:UInt32}`,
        query_params: { deploymentId, afterSeq: options.afterSeq ?? 0, limit: clampLimit(options.limit), contains },
        format: 'JSONEachRow',
      });
      const rows = await result.json<EventRow>();
      return rows.map((r) => ({ seq: Number(r.seq), ts: Number(r.ts), stream: r.stream, message: r.message }));
    },

    async readEvents(deploymentId, options = {}) {
      const result = await client.query({
        query: `
          SELECT project_id, seq, toUnixTimestamp64Milli(ts) AS ts, type, stream, status, message
          FROM log_events
          WHERE deployment_id = {deploymentId:String} AND seq > {afterSeq:UInt64} AND seq < {beforeSeq:UInt64}
          ORDER BY seq
          LIMIT 1 BY seq
          LIMIT {limit:UInt32}`,
        query_params: {
          deploymentId,
          afterSeq: options.afterSeq ?? 0,
          beforeSeq: options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
          limit: clampLimit(options.limit),
        },
        format: 'JSONEachRow',
      });
      return (await result.json<EventRow>()).map((r) => eventFromRow(deploymentId, r));
    },

    async eventSummary(deploymentId) {
      const result = await client.query({
        // Duplicates not merged yet change neither the max nor "any terminal": no FINAL needed.
        query: `
          SELECT max(seq) AS max_seq, countIf(type = 'status' AND status IN ('READY', 'ERROR', 'CANCELED')) AS terminal
          FROM log_events WHERE deployment_id = {deploymentId:String}`,
        query_params: { deploymentId },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<{ max_seq: string | number; terminal: string | number }>();
      return { maxSeq: Number(row?.max_seq ?? 0), terminal: Number(row?.terminal ?? 0) > 0 };
    },
  };
}

/** A `log_events` row as the build event it was written from (a status keeps its detail in `message`). */
function eventFromRow(deploymentId: string, r: EventRow): BuildEvent {
  const base = { deploymentId, projectId: r.project_id, seq: Number(r.seq), ts: Number(r.ts) };
  if (r.type === 'status') {
    return { ...base, type: 'status', status: r.status as Extract<BuildEvent, { type: 'status' }>['status'], ...(r.message ? { detail: r.message } : {}) };
  }
  return { ...base, type: 'log', stream: r.stream, message: r.message };
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_READ_LIMIT;
  return Math.max(0, Math.min(MAX_READ_LIMIT, Math.floor(limit)));
}

let lastMs = NaN;
let lastText = '';

/** `2026-11-27 10:00:00.123` (UTC): the text form every ClickHouse version parses for DateTime64(3, 'UTC'). */
export function clickhouseTime(ms: number): string {
  // Lines of a busy build share their millisecond: formatting once per ms saves most of the work.
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    lastMs = ms;
  }
  return lastText;
}
