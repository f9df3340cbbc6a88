import type { ClickHouse } from '@platform/clickhouse';
import type { Db } from '@platform/db';
import type { EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { ObjectStore } from '@platform/object-store';
import type { Runner, RunnerIsolation } from '@platform/runner';
import type { AccessOptions } from './config.ts';
import type { BuildEventsConsumerOptions } from './deployments/build-events-consumer.ts';
import type { ReconcilerOptions } from './deployments/reconciler.ts';
import type { SchedulerOptions } from './deployments/scheduler.ts';
import type { GithubAppOptions } from './github/github-app.ts';
import type { GithubReporterOptions } from './github/github-reporter.ts';
import type { LiveLogsOptions } from './live-logs/index.ts';
import type { NotifierOptions } from './notifications/notifier.ts';
import type { Urls } from './urls.ts';

/** The drivers the api-server runs on; they belong to the caller, which closes them. */
export interface ApiDeps {
  db: Db;
  store: ObjectStore;
  bus: EventBus;
  clickhouse: ClickHouse;
  runner: Runner;
  logger: Logger;
}

export interface ApiOptions {
  urls: Urls;
  /** Folders a project's git URL may name as a local path; empty: local paths refused. */
  localGitRoots: readonly string[];
  /** How builds are isolated (the runner's probe): shown at GET /platform and in the dashboard. */
  isolation?: RunnerIsolation;
  scheduler: SchedulerOptions;
  reconciler?: ReconcilerOptions;
  logRetentionDays?: number;
  /** Keys, token lifetime, sign-up switch, rate limits (see config.ts). */
  access: AccessOptions;
  /** Retry timing of outgoing notifications (tests shorten it). */
  notifications?: Omit<NotifierOptions, 'allowPrivateUrls'>;
  /** Tuning of the build-event writer (batch size, linger, retry backoff). */
  buildEvents?: BuildEventsConsumerOptions;
  /** Consumer group of this replica's live feed; unique per replica (default: random). */
  liveGroupId?: string;
  liveLogs?: LiveLogsOptions;
  /** The GitHub App (GITHUB_APP_*), absent when none is configured; the reporter's timing (tests shorten it). */
  github?: { app: GithubAppOptions | null; reporter: GithubReporterOptions };
}
