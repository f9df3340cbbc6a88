/**
 * Live logs: the build-log path from the bus to the reader, in one place.
 *
 *   build-events ─▶ writer (deployments/build-events-consumer.ts, one group for all replicas)
 *        │             └─ after each committed batch: `onApplied` ─▶ build-events-applied
 *        └──────▶ live feed (a group per replica) ─▶ streams ◀── history (ClickHouse)
 *                                                      ▲
 *                           build-events-applied ─▶ gate (holds a terminal status)
 *
 * - socket-server.ts: the socket.io surface (protocol in `@platform/contracts` live-logs.ts)
 * - stream.ts: one subscriber's stream; replay.ts: its ordering rules, as pure functions
 * - applied-gate.ts: READY goes out only once the writer has applied it (why an event: there)
 * - live-feed.ts: the two per-replica subscriptions and the writer's announcer
 * - logs-routes.ts: `GET /deployments/:id/logs` (and `.txt`), the same history over HTTP
 */
import type { Server as HttpServer } from 'node:http';
import type { Router } from 'express';
import type { BuildEvent } from '@platform/contracts';
import type { LogStore } from '@platform/clickhouse';
import type { EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { DeploymentsRepo } from '../deployments/deployments-repo.ts';
import type { EventGuard } from '../deployments/event-guard.ts';
import { AppliedGate, type AppliedGateOptions } from './applied-gate.ts';
import { appliedAnnouncer, liveGroupId, startAppliedFeed, startLiveFeed } from './live-feed.ts';
import { logsRoutes } from './logs-routes.ts';
import { LiveLogsServer, type LiveLogsAccess } from './socket-server.ts';
import type { StreamOptions } from './stream.ts';

export type { LiveLogsAccess } from './socket-server.ts';
export { liveGroupId } from './live-feed.ts';

export interface LiveLogsOptions extends StreamOptions {
  /** How often deployments with subscribers are checked for an end that sent no status event. Default 5 s. */
  sweepIntervalMs?: number;
  /** How long a terminal status waits for the writer's applied event (see applied-gate.ts). */
  applied?: AppliedGateOptions;
  /** Consumer group of this replica's live feed; unique per replica (default: random). */
  groupId?: string;
  /** How often open sockets' credentials are checked again (revoked or expired: disconnected). Default 1 s. */
  credentialRecheckMs?: number;
}

export interface LiveLogsDeps {
  bus: EventBus;
  logStore: LogStore;
  deployments: Pick<DeploymentsRepo, 'get'>;
  access?: LiveLogsAccess;
  logger: Logger;
  /** Signature checks on the live feed: a forged line is never shown (see deployments/event-guard.ts). */
  guard?: EventGuard;
}

export interface LiveLogs {
  /** The logs HTTP routes; mount them behind the deployment-owner guard. */
  routes: Router;
  /** The writer's `onApplied` hook: announces a committed batch to every replica's live feed. */
  onApplied: (events: readonly BuildEvent[]) => Promise<void>;
  /** Serves the sockets on `server` and starts this replica's feeds; once, after the routes are mounted. */
  attach(server: HttpServer): Promise<void>;
  /** Sockets subscribed to a deployment on this replica. */
  subscriberCount(deploymentId: string): number;
  /** Stops both feeds, then closes the sockets. */
  close(): Promise<void>;
}

/**
 * Assembles live logs. Two steps because the HTTP server is made from the app that the routes
 * are mounted on: `routes` first, `attach(server)` once the server exists.
 */
export function createLiveLogs(deps: LiveLogsDeps, options: LiveLogsOptions = {}): LiveLogs {
  const logger = deps.logger.child({ component: 'live-logs' });
  const getRow = (id: string) => deps.deployments.get(id);
  const gate = new AppliedGate({ getRow, logger }, options.applied);
  let running: { sockets: LiveLogsServer; stop: () => Promise<void> } | undefined;
  return {
    routes: logsRoutes({ deployments: deps.deployments, logStore: deps.logStore }),
    onApplied: appliedAnnouncer(deps.bus, deps.logger),
    async attach(server) {
      if (running) throw new Error('live logs are attached already');
      const sockets = new LiveLogsServer(server, {
        logStore: deps.logStore,
        getRow,
        gate,
        logger,
        options,
        access: deps.access,
        credentialRecheckMs: options.credentialRecheckMs,
      });
      running = { sockets, stop: await startFeeds(deps, options, gate, sockets) };
    },
    subscriberCount: (id) => running?.sockets.subscriberCount(id) ?? 0,
    async close() {
      await running?.stop();
      gate.releaseAll();
      await running?.sockets.close();
    },
  };
}

/** This replica's two subscriptions and the sweep; returns what stops them. */
async function startFeeds(deps: LiveLogsDeps, options: LiveLogsOptions, gate: AppliedGate, sockets: LiveLogsServer): Promise<() => Promise<void>> {
  const groupId = options.groupId ?? liveGroupId();
  // Applied events first: one that arrives before its status is seen live is simply kept.
  const appliedFeed = await startAppliedFeed({ bus: deps.bus, logger: deps.logger, groupId, onApplied: (a) => gate.noteApplied(a.deploymentId, a.upToSeq) });
  const liveFeed = await startLiveFeed({
    bus: deps.bus,
    logger: deps.logger,
    groupId,
    onEvents: (events) => sockets.deliver(events),
    ...(deps.guard ? { guard: deps.guard } : {}),
  });
  const sweep = setInterval(() => void sockets.sweepFinished(), options.sweepIntervalMs ?? 5_000);
  sweep.unref();
  return async () => {
    clearInterval(sweep);
    await liveFeed.stop();
    await appliedFeed.stop();
  };
}
