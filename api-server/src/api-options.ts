import type { ClickHouse } from '@platform/clickhouse';
import type { Db } from '@platform/db';
import type { EventBus } from '@platform/event-bus';
import type { Logger } from '@platform/logger';
import type { ObjectStore, UploadCredentialMinter } from '@platform/object-store';
import type { Runner, RunnerIsolation } from '@platform/runner';
import type { AccessOptions } from './config.ts';
import type { DataLifecycleWorkerOptions } from './data-lifecycle/data-lifecycle-worker.ts';
import type { BuildEventsConsumerOptions } from './deployments/build-events-consumer.ts';
import type { DomainsOptions } from './domains/domains-options.ts';
import type { ReconcilerOptions } from './deployments/reconciler.ts';
import type { SchedulerOptions } from './deployments/scheduler.ts';
import type { GithubAppOptions } from './github/github-app.ts';
import type { GithubReporterOptions } from './github/github-reporter.ts';
import type { LiveLogsOptions } from './live-logs/index.ts';
import type { NotifierOptions } from './notifications/notifier.ts';
import type { UploadLimits } from './uploads/uploads-service.ts';
import type { Urls } from './urls.ts';

/** The drivers the api-server runs on; they belong to the caller, which closes them. */
export interface ApiDeps {
  db: Db;
  store: ObjectStore;
  bus: EventBus;
  clickhouse: ClickHouse;
  runner: Runner;
  logger: Logger;
  /** Mints each build's S3 credentials (S3_UPLOAD_ROLE_ARN); absent: builds get the storage settings as they are. */
  uploadCredentials?: UploadCredentialMinter;
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
  /** BUILD_EVENTS_SIGNING_SECRET: build events must carry their deployment's signature (see deployments/event-guard.ts). */
  buildEventsSigningSecret?: string;
  /** Tuning of the build-event writer (batch size, linger, retry backoff). */
  buildEvents?: BuildEventsConsumerOptions;
  /** Consumer group of this replica's live feed; unique per replica (default: random). */
  liveGroupId?: string;
  liveLogs?: LiveLogsOptions;
  /** Limits of direct uploads (CLI deploys); defaults as a build's output. */
  uploads?: UploadLimits;
  /** Retention defaults, quota, pass interval (see data-lifecycle/). Default: the config defaults. */
  dataLifecycle?: DataLifecycleWorkerOptions & { deletionSettleMs?: number };
  /** Custom domains with ACME certificates; absent: adding one answers 409 domains_disabled. */
  domains?: DomainsOptions;
  /** The GitHub App (GITHUB_APP_*), absent when none is configured; the reporter's timing (tests shorten it). */
  github?: { app: GithubAppOptions | null; reporter: GithubReporterOptions };
}
