import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import {
  complainer,
  formatConfigError,
  kafkaEnvShape,
  kafkaFromEnv,
  refineKafkaEnv,
  refineS3Env,
  s3EnvShape,
  storageFromEnv,
  unsetIfBlank as optional,
  type KafkaSettings,
  type StorageSettings,
} from '@platform/contracts';
import type { ClickHouseSettings } from '@platform/clickhouse';
import type { GithubAppOptions } from './github/github-app.ts';
import { isTrustProxyEntry } from './http/trust-proxy.ts';
/** `a, b,c` → ['a', 'b', 'c']; unset → []. */
const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** `512m` → 536870912; a plain number is bytes. */
const bytes = (v: string): number => {
  const match = /^(\d+)([kmg]?)$/i.exec(v)!;
  return Number(match[1]) * 1024 ** ' kmg'.indexOf((match[2] || ' ').toLowerCase());
};
const port = (fallback: number) => optional(z.coerce.number().int().min(0).max(65_535).default(fallback));

const apiEnvShape = {
  // Port of the REST API and socket.io. Default 9000.
  API_PORT: port(9000),
  // Interface to listen on. Default 127.0.0.1 (use 0.0.0.0 behind a load balancer).
  API_HOST: optional(z.string().default('127.0.0.1')),
  // Domain under which deployments are served: <project>.<ROOT_DOMAIN>. Default localhost.
  ROOT_DOMAIN: optional(
    z
      .string()
      .regex(/^[a-z0-9.-]+$/, 'must be a lower-case domain name')
      .default('localhost'),
  ),
  // Scheme of the public deployment URLs. Default http.
  PUBLIC_SCHEME: optional(z.enum(['http', 'https']).default('http')),
  // Port in the public deployment URLs; default: PROXY_PORT.
  PUBLIC_PORT: optional(z.coerce.number().int().min(1).max(65_535).optional()),
  // Port of the s3-reverse-proxy. Default 8000.
  PROXY_PORT: port(8000),
  // Folder for every embedded driver's data (PGlite, objects, chDB). Default .data
  DATA_DIR: optional(z.string().default('.data')),
  // Builds running at once. Default 2.
  MAX_CONCURRENT_BUILDS: optional(z.coerce.number().int().min(1).max(1_000).default(2)),
  // Builds running at once in one project. Default: MAX_CONCURRENT_BUILDS.
  MAX_CONCURRENT_BUILDS_PER_PROJECT: optional(z.coerce.number().int().min(1).max(1_000).optional()),
  // Launch attempts for a build whose task cannot start (no capacity, throttling) before ERROR. Default 5.
  BUILD_LAUNCH_ATTEMPTS: optional(z.coerce.number().int().min(1).max(50).default(5)),
  // How often the reconciler checks running builds against their tasks. Default 5000.
  RECONCILE_INTERVAL_MS: optional(z.coerce.number().int().min(100).default(5_000)),
  // How long a stopped task's last events may take to arrive before its deployment is declared dead. Default 5000.
  RECONCILE_SETTLE_MS: optional(z.coerce.number().int().min(0).default(5_000)),
  // Where builds run: local (child processes), container (podman/docker), ecs (AWS ECS Fargate). Default local.
  RUNNER: optional(z.enum(['local', 'container', 'ecs']).default('local')),
  // RUNNER=ecs: cluster name or ARN.
  ECS_CLUSTER: optional(z.string().optional()),
  // RUNNER=ecs: build-server task definition (family, family:revision or ARN).
  ECS_TASK_DEFINITION: optional(z.string().optional()),
  // RUNNER=ecs: name of the build-server container in the task definition. Default build-server.
  ECS_CONTAINER_NAME: optional(z.string().default('build-server')),
  // RUNNER=ecs: comma-separated subnet ids for the task's network interface.
  ECS_SUBNETS: optional(z.string().optional()).transform(list),
  // RUNNER=ecs: comma-separated security group ids. Default: the VPC's default group.
  ECS_SECURITY_GROUPS: optional(z.string().optional()).transform(list),
  // RUNNER=ecs: give the task a public IP (public subnet without NAT). Default false.
  ECS_ASSIGN_PUBLIC_IP: optional(z.enum(['true', 'false', '1', '0']).default('false')).transform((v) => v === 'true' || v === '1'),
  // RUNNER=ecs: launch type. Default FARGATE (unless ECS_CAPACITY_PROVIDER is set).
  ECS_LAUNCH_TYPE: optional(z.enum(['FARGATE', 'EC2', 'EXTERNAL']).optional()),
  // RUNNER=ecs: capacity provider instead of a launch type, e.g. FARGATE_SPOT.
  ECS_CAPACITY_PROVIDER: optional(z.string().optional()),
  // RUNNER=ecs: ECS API endpoint (moto, LocalStack); the AWS default when unset.
  ECS_ENDPOINT: optional(z.string().url().optional()),
  // The upload role builds write their output with (infra/iam/build-upload-role-*.json): the api-server assumes it per deployment with the session tags deployment-id and project-id, for the build's timeout, and hands only those credentials to the build. Required with RUNNER=ecs; with RUNNER=container and S3, builds otherwise get the api-server's own keys.
  S3_UPLOAD_ROLE_ARN: optional(
    z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
      .optional(),
  ),
  // STS endpoint for S3_UPLOAD_ROLE_ARN (moto, LocalStack); the AWS default when unset.
  STS_ENDPOINT: optional(z.string().url().optional()),
  // The builds' Kafka principal (SASL, the KAFKA_SASL_MECHANISM of the platform's): ACLs let it only produce to the build-events topic. Required with RUNNER=ecs when KAFKA_USERNAME is set; the platform's own KAFKA_USERNAME never reaches a build.
  KAFKA_BUILD_USERNAME: optional(z.string().min(1).optional()),
  KAFKA_BUILD_PASSWORD: optional(z.string().min(1).optional()),
  // RUNNER=container: the engine CLI. Default podman (its exit codes are the container's).
  CONTAINER_ENGINE: optional(z.enum(['podman', 'docker']).default('podman')),
  // RUNNER=container: the build-server image (packages/runner/container/build-image.sh makes it).
  CONTAINER_IMAGE: optional(z.string().default('localhost/platform-build-server:latest')),
  // RUNNER=container: CPUs per build. Default 1.
  CONTAINER_CPUS: optional(z.coerce.number().positive().max(256).default(1)),
  // RUNNER=container: memory per build (podman syntax). Default 2g.
  CONTAINER_MEMORY: optional(
    z
      .string()
      .regex(/^\d+[bkmg]?$/i, 'must be like 512m or 2g')
      .default('2g'),
  ),
  // RUNNER=container: most processes per build. Default 1024.
  CONTAINER_PIDS_LIMIT: optional(z.coerce.number().int().min(16).default(1_024)),
  // RUNNER=container: size of the build's tmpfs scratch folder. Default 4g.
  CONTAINER_SCRATCH_SIZE: optional(
    z
      .string()
      .regex(/^\d+[kmg]?$/i, 'must be like 512m or 4g')
      .default('4g'),
  ),
  // RUNNER=container: --network for builds (none, slirp4netns[:options], a network name). Default with podman: slirp4netns:allow_host_loopback=false; with docker the engine's.
  CONTAINER_NETWORK: optional(
    z
      .string()
      .regex(/^[a-zA-Z0-9_.:=,-]+$/, 'must be a network name')
      .optional(),
  ),
  // A build running longer is killed and ends in ERROR. Default 15 minutes.
  BUILD_TIMEOUT_MS: optional(
    z.coerce
      .number()
      .int()
      .min(1_000)
      .default(15 * 60_000),
  ),
  // Direct uploads (CLI deploys): largest single file, in bytes. Default 100 MiB.
  UPLOAD_MAX_FILE_BYTES: optional(
    z.coerce
      .number()
      .int()
      .positive()
      .default(100 * 1024 ** 2),
  ),
  // Direct uploads: most files in one deployment. Default 20,000 (as a build's output).
  UPLOAD_MAX_FILES: optional(z.coerce.number().int().positive().default(20_000)),
  // Direct uploads: most bytes in one deployment. Default 1 GiB (as a build's output).
  UPLOAD_MAX_TOTAL_BYTES: optional(
    z.coerce
      .number()
      .int()
      .positive()
      .default(1024 ** 3),
  ),
  // Days build logs are kept in ClickHouse. Default 30.
  LOG_RETENTION_DAYS: optional(z.coerce.number().int().min(1).default(30)),
  // Accept local folders as git URLs, under LOCAL_GIT_ROOTS only. Default false (every account could name a folder of this machine's).
  ALLOW_LOCAL_GIT: optional(z.enum(['true', 'false', '1', '0']).default('false')).transform((v) => v === 'true' || v === '1'),
  // With ALLOW_LOCAL_GIT: comma-separated absolute folders a local git path must be inside. Default DATA_DIR/repos. Every account may build what is there.
  LOCAL_GIT_ROOTS: optional(z.string().optional()).transform(list),
  // Sandbox for builds on RUNNER=local: auto (bubblewrap when this host can run it, otherwise single-user mode: sign-up closed), required (refuse to start without it), off (single-user mode even where it could run). Default auto.
  SANDBOX: optional(z.enum(['auto', 'required', 'off']).default('auto')),
  // Memory of one build's commands together (bytes, or like 512m, 2g). Default 2g.
  BUILD_MEMORY: optional(
    z
      .string()
      .regex(/^\d+[kmg]?$/i, 'must be like 512m or 2g')
      .default('2g'),
  ).transform(bytes),
  // Processes and threads of one build at once. Default 1024.
  BUILD_PIDS_LIMIT: optional(z.coerce.number().int().min(16).default(1_024)),
  // CPUs one build may use at once, e.g. 1 or 1.5. Default: not limited (the machine's).
  BUILD_CPUS: optional(z.coerce.number().positive().max(256).optional()),
  // CPU time of one build's commands together, in seconds. Default 1800.
  BUILD_CPU_SECONDS: optional(z.coerce.number().int().min(1).default(1_800)),
  // Size of one build's work folder (clone, dependencies, caches, output, /tmp). Default 4g.
  BUILD_DISK: optional(
    z
      .string()
      .regex(/^\d+[kmg]?$/i, 'must be like 512m or 4g')
      .default('4g'),
  ).transform(bytes),
  // A cache folder for the embedded database's migrated template (a tar of an empty, migrated PGlite data folder): a new DATA_DIR starts from it instead of running initdb. Default: platform/ under XDG_CACHE_HOME or ~/.cache; off: none.
  PGLITE_TEMPLATE_DIR: optional(z.string().min(1).optional()),
  XDG_CACHE_HOME: optional(z.string().min(1).optional()),
  HOME: optional(z.string().min(1).optional()),
  // Where the local runner puts each build's scratch folder (build-<deploymentId>-*): swept of dead builds' folders at start and by the reconciler. Default: platform-builds-<hash of DATA_DIR> in the system temp folder (the build's uid must pass through it; DATA_DIR is owner-only).
  BUILD_SCRATCH_DIR: optional(z.string().min(1).optional()),
  // Free space on the scratch folder's disk below which no build is launched (they wait, saying why). Default 1g; 0 switches it off.
  BUILD_MIN_FREE_DISK: optional(
    z
      .string()
      .regex(/^\d+[kmg]?$/i, 'must be like 512m or 1g')
      .default('1g'),
  ).transform(bytes),
  // Platform secret from which each build's event-signing key is derived (HMAC-SHA256 with the deployment and project ids), at least 32 characters; the same on every replica. Set: every build event must carry its deployment's signature (unsigned, forged and replayed events are dropped and counted in /metrics). Unset: events are taken unsigned.
  BUILD_EVENTS_SIGNING_SECRET: optional(z.string().min(32, 'must be at least 32 characters').optional()),
  // Retention: READY deployments kept per branch (besides every one an alias serves). Default 10; a project may set its own.
  RETENTION_KEEP_PER_BRANCH: optional(z.coerce.number().int().min(1).default(10)),
  // Retention: earlier READY production deployments kept for instant rollback. Default 5.
  RETENTION_KEEP_ROLLBACK: optional(z.coerce.number().int().min(0).default(5)),
  // Retention: days after which an ERROR or CANCELED deployment's leftovers (files, logs, row) are deleted. Default 7.
  RETENTION_FAILED_DAYS: optional(z.coerce.number().int().min(1).default(7)),
  // Bytes of build caches one project keeps (least recently used evicted first), like 512m or 2g. Default 2g.
  BUILD_CACHE_CAP: optional(
    z
      .string()
      .regex(/^\d+[kmg]?$/i, 'must be like 512m or 2g')
      .default('2g'),
  ).transform(bytes),
  // Bytes one project may hold (deployments, caches, logs): over it, its builds end in ERROR saying so. Like 5g; 0 or unset: no quota.
  STORAGE_QUOTA: optional(
    z
      .string()
      .regex(/^\d+[kmg]?$/i, 'must be like 512m or 5g')
      .default('0'),
  ).transform(bytes),
  // How often retention, cache eviction, storage measuring and background deletions run (ms). Default 300000 (a deletion also starts one at once).
  DATA_LIFECYCLE_INTERVAL_MS: optional(z.coerce.number().int().min(100).default(300_000)),
  // Secret that signs access tokens (JWT, HS256), at least 32 characters; several replicas need the same one. Default: generated once into DATA_DIR/secrets.
  JWT_SECRET: optional(z.string().min(32, 'must be at least 32 characters').optional()),
  // A file holding JWT_SECRET (docker secrets, a volume shared by every replica). Instead of JWT_SECRET.
  JWT_SECRET_FILE: optional(z.string().optional()),
  // Lifetime of an access token from login or sign-up, in seconds. Default 12 hours.
  ACCESS_TOKEN_TTL_SECONDS: optional(
    z.coerce
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(12 * 3_600),
  ),
  // AES-256 key (64 hex characters or 44 base64) encrypting env vars and webhook secrets at rest. Default: generated once into DATA_DIR/secrets.
  ENV_ENCRYPTION_KEY: optional(
    z
      .string()
      .refine((v) => /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64').length === 32, 'must be 32 bytes as 64 hex or base64 characters')
      .optional(),
  ),
  // A file holding ENV_ENCRYPTION_KEY. Instead of ENV_ENCRYPTION_KEY.
  ENV_ENCRYPTION_KEY_FILE: optional(z.string().optional()),
  // Allow sign-up of new accounts. Default true where builds are sandboxed; in single-user mode (no sandbox) only the first account, and true is refused.
  ALLOW_SIGNUP: optional(z.enum(['true', 'false', '1', '0']).optional()).transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
  // Login attempts per account email and client address per minute. Default 10.
  LOGIN_RATE_LIMIT_PER_MINUTE: optional(z.coerce.number().int().min(1).default(10)),
  // Login attempts per client address per minute, whatever the account (a looser cap on guessing across accounts). Default 100.
  LOGIN_ADDRESS_RATE_LIMIT_PER_MINUTE: optional(z.coerce.number().int().min(1).default(100)),
  // Sign-ups per client address per minute (a bucket of their own, apart from login). Default 10.
  SIGNUP_RATE_LIMIT_PER_MINUTE: optional(z.coerce.number().int().min(1).default(10)),
  // Addresses or CIDRs of the platform's own proxy (and a load balancer in front of it), comma-separated; `loopback`, `linklocal`, `uniquelocal` name those ranges. Only a request from one of them may name the client in X-Forwarded-For. Default: none (npm start, with the proxy in the same process: loopback).
  TRUST_PROXY: optional(z.string().optional()).transform(list),
  // How many trusted proxies stand in front of the api-server (the proxy: 1; a load balancer before it: 2). Default 1.
  TRUST_PROXY_HOPS: optional(z.coerce.number().int().min(1).max(10).default(1)),
  // Webhook and deploy-hook requests per client address per minute. Default 600.
  WEBHOOK_RATE_LIMIT_PER_MINUTE: optional(z.coerce.number().int().min(1).default(600)),
  // Let notification endpoints point at loopback or private addresses. Default false (they could reach internal services).
  ALLOW_PRIVATE_WEBHOOK_URLS: optional(z.enum(['true', 'false', '1', '0']).default('false')).transform((v) => v === 'true' || v === '1'),
  // pino level. Default info.
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  // Custom domains: 32 bytes (64 hex or base64 characters) sealing certificate keys in the object store; the proxy's same setting. Unset: custom domains are off.
  CERTIFICATE_STORE_KEY: optional(
    z
      .string()
      .refine((v) => /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64').length === 32, 'must be 32 bytes as 64 hex or base64 characters')
      .optional(),
  ),
  // The ACME directory certificates are ordered from. Default Let's Encrypt production.
  ACME_DIRECTORY_URL: optional(z.url({ protocol: /^https?$/ }).default('https://acme-v02.api.letsencrypt.org/directory')),
  // Contact address of the ACME account (expiry warnings from the CA). Unset: none.
  ACME_EMAIL: optional(z.email().optional()),
  // A PEM file of extra roots to trust for the ACME server's own HTTPS (a test CA such as Pebble). Unset: the system's.
  ACME_CA_BUNDLE: optional(z.string().optional()),
  // The CA profile to order (e.g. Let's Encrypt "shortlived"). Unset: the CA's default.
  ACME_PROFILE: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a profile name')
      .optional(),
  ),
  // Resolvers proving domains, comma-separated host or host:port (e.g. 1.1.1.1,8.8.8.8). Unset: the system's.
  DOMAIN_DNS_RESOLVER: optional(z.string().optional()).transform(list),
  // The hostname a custom domain's CNAME may point at instead of the TXT record. Default cname.<ROOT_DOMAIN>.
  DOMAIN_CNAME_TARGET: optional(
    z
      .string()
      .regex(/^[a-z0-9.-]+$/, 'must be a lower-case domain name')
      .optional(),
  ),
  // How often the certificates worker looks for domains to prove, certify or renew. Default 30000 ms.
  CERTIFICATES_INTERVAL_MS: optional(z.coerce.number().int().min(100).max(3_600_000).default(30_000)),
  // Where build processes and the container engine find their programs (git, npm, podman). Default: the usual system folders.
  PATH: optional(z.string().default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')),
  // Locale and time zone handed to local build processes; unset by default.
  LANG: optional(z.string().optional()),
  TZ: optional(z.string().optional()),

  // PostgreSQL for metadata, e.g. postgres://user:password@host:5432/platform. Unset: PGlite under DATA_DIR.
  DATABASE_URL: optional(
    z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
      .optional(),
  ),
  // Most PostgreSQL connections one api-server opens. Default 10.
  DATABASE_POOL_MAX: optional(z.coerce.number().int().min(1).max(1_000).optional()),

  // ClickHouse server over HTTP(S), e.g. http://clickhouse:8123. Unset (and no CLICKHOUSE_HOST): chDB under DATA_DIR.
  CLICKHOUSE_URL: optional(
    z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL')
      .optional(),
  ),
  // The same as a host name (host or host:port, plain HTTP, port 8123 by default), as in the original .env.
  CLICKHOUSE_HOST: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port (use CLICKHOUSE_URL for https)')
      .optional(),
  ),
  // Database holding log_events. Default default.
  CLICKHOUSE_DATABASE: optional(
    z
      .string()
      .regex(/^[A-Za-z0-9_]+$/, 'must be a database name')
      .optional(),
  ),
  // ClickHouse user. Default default.
  CLICKHOUSE_USER: optional(z.string().optional()),
  // ClickHouse password. Default empty.
  CLICKHOUSE_PASSWORD: optional(z.string().optional()),

  // GitHub App (private repositories, pull-request previews, commit statuses): its numeric id. Unset: no App (per-repository webhooks only).
  GITHUB_APP_ID: optional(z.coerce.number().int().positive().optional()),
  // The App's private key (PEM; `\n` escapes allowed). Or GITHUB_APP_PRIVATE_KEY_FILE.
  GITHUB_APP_PRIVATE_KEY: optional(z.string().optional()),
  // A file holding the App's private key. Instead of GITHUB_APP_PRIVATE_KEY.
  GITHUB_APP_PRIVATE_KEY_FILE: optional(z.string().optional()),
  // Secret of the App's webhook (its deliveries go to POST /webhooks/github).
  GITHUB_APP_WEBHOOK_SECRET: optional(z.string().min(16, 'must be at least 16 characters').optional()),
  // The App's OAuth client id and secret: prove which GitHub user connects an installation.
  GITHUB_APP_CLIENT_ID: optional(z.string().optional()),
  GITHUB_APP_CLIENT_SECRET: optional(z.string().optional()),
  // The App's URL name, for the install link https://github.com/apps/<slug>/installations/new.
  GITHUB_APP_SLUG: optional(
    z
      .string()
      .regex(/^[a-z0-9-]+$/, "must be the App's URL name")
      .optional(),
  ),
  // GitHub's REST API. Default https://api.github.com (GitHub Enterprise: https://<host>/api/v3).
  GITHUB_API_URL: optional(z.string().url().default('https://api.github.com')),
  // GitHub's web address, for the install link. Default https://github.com.
  GITHUB_WEB_URL: optional(z.string().url().default('https://github.com')),
  // Where users reach the dashboard: commit statuses link a build's log there. Default http://localhost:API_PORT.
  DASHBOARD_URL: optional(z.string().url().optional()),

  ...s3EnvShape,
  ...kafkaEnvShape,
};

export const apiConfigSchema = z.object(apiEnvShape).superRefine((env, ctx) => {
  const complain = complainer(ctx);
  refineS3Env(env, complain);
  refineKafkaEnv(env, complain);
  if (env.DATABASE_POOL_MAX !== undefined && !env.DATABASE_URL) complain('DATABASE_POOL_MAX', 'needs DATABASE_URL');
  if (env.DATABASE_URL) {
    // A shared database outlives any one replica's DATA_DIR: keys generated there would sign
    // tokens and encrypt env vars that the other replicas cannot read.
    for (const name of ['JWT_SECRET', 'ENV_ENCRYPTION_KEY'] as const) {
      if (!env[name] && !env[`${name}_FILE`]) complain(name, `is required with DATABASE_URL (or ${name}_FILE; the same on every api-server replica)`);
    }
  }
  for (const name of ['JWT_SECRET', 'ENV_ENCRYPTION_KEY'] as const) {
    if (env[name] && env[`${name}_FILE`]) complain(`${name}_FILE`, `set ${name} or ${name}_FILE, not both`);
  }
  for (const entry of env.TRUST_PROXY) {
    if (!isTrustProxyEntry(entry)) complain('TRUST_PROXY', `must list addresses, CIDRs or loopback/linklocal/uniquelocal (${JSON.stringify(entry)})`);
  }
  if (env.LOCAL_GIT_ROOTS.length > 0 && !env.ALLOW_LOCAL_GIT) complain('LOCAL_GIT_ROOTS', 'needs ALLOW_LOCAL_GIT=true');
  for (const root of env.LOCAL_GIT_ROOTS) if (!root.startsWith('/')) complain('LOCAL_GIT_ROOTS', `must be absolute folders (${JSON.stringify(root)})`);
  if (env.CLICKHOUSE_URL && env.CLICKHOUSE_HOST) complain('CLICKHOUSE_HOST', 'set CLICKHOUSE_URL or CLICKHOUSE_HOST, not both');
  if (env.RUNNER === 'ecs') {
    for (const name of ['ECS_CLUSTER', 'ECS_TASK_DEFINITION'] as const) {
      if (!env[name]) complain(name, 'is required when RUNNER=ecs');
    }
    if (env.ECS_SUBNETS.length === 0) complain('ECS_SUBNETS', 'is required when RUNNER=ecs (comma-separated subnet ids)');
    // The build's events and output must cross machines: the pipe and a local folder cannot.
    if (!env.KAFKA_BROKERS) complain('RUNNER', 'ecs needs KAFKA_BROKERS: an ECS task publishes its build events to Kafka');
    if (!env.S3_BUCKET) complain('RUNNER', 'ecs needs S3_BUCKET: an ECS task uploads its output to S3');
    // What an ECS task carries is its build's alone: minted upload keys, the build principal, its signing key.
    if (!env.S3_UPLOAD_ROLE_ARN)
      complain('S3_UPLOAD_ROLE_ARN', 'is required when RUNNER=ecs (builds get per-deployment upload credentials, see infra/iam/README.md)');
    if (env.KAFKA_USERNAME && !env.KAFKA_BUILD_USERNAME)
      complain('KAFKA_BUILD_USERNAME', "is required when RUNNER=ecs and KAFKA_USERNAME is set (a build never gets the platform's Kafka user)");
    if (!env.BUILD_EVENTS_SIGNING_SECRET)
      complain(
        'BUILD_EVENTS_SIGNING_SECRET',
        'is required when RUNNER=ecs (the build principal may write the build-events topic: events must prove their deployment)',
      );
  }
  if (env.KAFKA_BUILD_USERNAME && !env.KAFKA_BUILD_PASSWORD) complain('KAFKA_BUILD_PASSWORD', 'is required with KAFKA_BUILD_USERNAME');
  if (env.KAFKA_BUILD_PASSWORD && !env.KAFKA_BUILD_USERNAME) complain('KAFKA_BUILD_USERNAME', 'is required with KAFKA_BUILD_PASSWORD');
  if (env.KAFKA_BUILD_USERNAME && !env.KAFKA_USERNAME) complain('KAFKA_BUILD_USERNAME', 'needs KAFKA_USERNAME (a broker without SASL has no principals)');
  if (env.S3_UPLOAD_ROLE_ARN && !env.S3_BUCKET) complain('S3_UPLOAD_ROLE_ARN', 'needs S3_BUCKET');
  if (env.STS_ENDPOINT && !env.S3_UPLOAD_ROLE_ARN) complain('STS_ENDPOINT', 'needs S3_UPLOAD_ROLE_ARN');
  if (env.GITHUB_APP_ID !== undefined) {
    if (!env.GITHUB_APP_PRIVATE_KEY && !env.GITHUB_APP_PRIVATE_KEY_FILE)
      complain('GITHUB_APP_PRIVATE_KEY', 'is required with GITHUB_APP_ID (or GITHUB_APP_PRIVATE_KEY_FILE)');
    for (const name of ['GITHUB_APP_WEBHOOK_SECRET', 'GITHUB_APP_CLIENT_ID', 'GITHUB_APP_CLIENT_SECRET', 'GITHUB_APP_SLUG'] as const) {
      if (!env[name]) complain(name, 'is required with GITHUB_APP_ID');
    }
  }
  if (env.GITHUB_APP_PRIVATE_KEY && env.GITHUB_APP_PRIVATE_KEY_FILE)
    complain('GITHUB_APP_PRIVATE_KEY_FILE', 'set GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, not both');
  if (env.ECS_LAUNCH_TYPE && env.ECS_CAPACITY_PROVIDER) complain('ECS_CAPACITY_PROVIDER', 'cannot be combined with ECS_LAUNCH_TYPE');
  if (!env.CLICKHOUSE_URL && !env.CLICKHOUSE_HOST) {
    for (const name of ['CLICKHOUSE_DATABASE', 'CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD'] as const) {
      if (env[name] !== undefined) complain(name, 'needs CLICKHOUSE_URL or CLICKHOUSE_HOST');
    }
  }
});

/** Which driver serves each concern, decided by the environment alone. */
export interface ApiDriverSettings {
  db: { driver: 'pglite'; dataDir: string; templateCacheDir?: string } | { driver: 'postgres'; url: string; maxConnections: number };
  storage: StorageSettings;
  bus: { driver: 'in-process' } | { driver: 'kafka'; kafka: KafkaSettings };
  clickhouse: ClickHouseSettings;
}

export type ApiConfig = z.output<typeof apiConfigSchema> & {
  dataDir: string;
  /** The local runner's scratch root (BUILD_SCRATCH_DIR, resolved, or its default). */
  scratchDir: string;
  drivers: ApiDriverSettings;
  /** Folders local git paths must be inside; empty: local paths refused. */
  localGitRoots: string[];
};

/** Parses the environment once; a bad or half-given value stops start-up with one line naming the variable. */
export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  const result = apiConfigSchema.safeParse(env);
  if (!result.success) throw new Error(formatConfigError(result.error));
  const parsed = result.data;
  const dataDir = resolve(parsed.DATA_DIR);
  const kafka = kafkaFromEnv(parsed);
  const clickhouseUrl = parsed.CLICKHOUSE_URL ?? (parsed.CLICKHOUSE_HOST ? clickhouseHostUrl(parsed.CLICKHOUSE_HOST) : undefined);
  const localGitRoots = parsed.ALLOW_LOCAL_GIT
    ? (parsed.LOCAL_GIT_ROOTS.length > 0 ? parsed.LOCAL_GIT_ROOTS : [join(dataDir, 'repos')]).map((r) => resolve(r))
    : [];
  return {
    ...parsed,
    dataDir,
    scratchDir: resolve(parsed.BUILD_SCRATCH_DIR ?? join(tmpdir(), `platform-builds-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`)),
    localGitRoots,
    drivers: {
      db: parsed.DATABASE_URL
        ? { driver: 'postgres', url: parsed.DATABASE_URL, maxConnections: parsed.DATABASE_POOL_MAX ?? 10 }
        : { driver: 'pglite', dataDir: join(dataDir, 'pglite'), ...pgliteTemplate(parsed) },
      storage: storageFromEnv(parsed, join(dataDir, 'objects')),
      bus: kafka ? { driver: 'kafka', kafka } : { driver: 'in-process' },
      clickhouse: clickhouseUrl
        ? {
            driver: 'http',
            url: clickhouseUrl,
            database: parsed.CLICKHOUSE_DATABASE ?? 'default',
            username: parsed.CLICKHOUSE_USER ?? 'default',
            password: parsed.CLICKHOUSE_PASSWORD ?? '',
          }
        : { driver: 'chdb', path: join(dataDir, 'chdb') },
    },
  };
}

/** Where the PGlite template lives: PGLITE_TEMPLATE_DIR, else the user's cache folder; `off` or no home: none. */
function pgliteTemplate(parsed: { PGLITE_TEMPLATE_DIR?: string; XDG_CACHE_HOME?: string; HOME?: string }): { templateCacheDir?: string } {
  if (parsed.PGLITE_TEMPLATE_DIR === 'off') return {};
  const cache = parsed.XDG_CACHE_HOME ?? (parsed.HOME ? join(parsed.HOME, '.cache') : undefined);
  const dir = parsed.PGLITE_TEMPLATE_DIR ?? (cache ? join(cache, 'platform') : undefined);
  return dir ? { templateCacheDir: resolve(dir) } : {};
}

/** `clickhouse` → `http://clickhouse:8123`; `clickhouse:18123` → `http://clickhouse:18123`. */
function clickhouseHostUrl(host: string): string {
  return `http://${host}${/:\d+$/.test(host) ? '' : ':8123'}`;
}

export interface ApiSecrets {
  jwtSecret: Uint8Array;
  envEncryptionKey: Buffer;
}

/**
 * The signing and encryption keys: from the environment, or (embedded default, so `npm start`
 * needs no setup) generated once and kept in `DATA_DIR/secrets/` with owner-only permissions.
 */
export function loadApiSecrets(config: ApiConfig): ApiSecrets {
  const jwt =
    config.JWT_SECRET ??
    secretFile(config.JWT_SECRET_FILE, 'JWT_SECRET_FILE') ??
    storedSecret(config.dataDir, 'jwt-secret', () => randomBytes(48).toString('base64url'));
  const key =
    config.ENV_ENCRYPTION_KEY ??
    secretFile(config.ENV_ENCRYPTION_KEY_FILE, 'ENV_ENCRYPTION_KEY_FILE') ??
    storedSecret(config.dataDir, 'env-encryption-key', () => randomBytes(32).toString('hex'));
  if (jwt.length < 32) throw new Error('invalid configuration: JWT_SECRET_FILE: must hold at least 32 characters');
  if (!/^[0-9a-fA-F]{64}$/.test(key) && Buffer.from(key, 'base64').length !== 32)
    throw new Error('invalid configuration: ENV_ENCRYPTION_KEY_FILE: must hold 32 bytes as 64 hex or base64 characters');
  return {
    jwtSecret: new TextEncoder().encode(jwt),
    envEncryptionKey: /^[0-9a-fA-F]{64}$/.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64'),
  };
}

/** The trimmed content of a secret file, or undefined when no file is configured. */
function secretFile(path: string | undefined, variable: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new Error(`invalid configuration: ${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
  }
}

function storedSecret(dataDir: string, name: string, generate: () => string): string {
  const dir = join(dataDir, 'secrets');
  const file = join(dir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = generate();
  try {
    // wx: two processes starting at once keep the first one's secret.
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(file, 'utf8').trim();
  }
  return value;
}

/** What accounts, tokens, secrets at rest and rate limits need from the configuration. */
export interface AccessOptions extends ApiSecrets {
  accessTokenTtlSeconds: number;
  /** `open`; `first-account`: only while no account exists (single-user mode); `closed`. */
  signup: 'open' | 'first-account' | 'closed';
  loginRateLimitPerMinute: number;
  loginAddressRateLimitPerMinute: number;
  signupRateLimitPerMinute: number;
  webhookRateLimitPerMinute: number;
  allowPrivateWebhookUrls: boolean;
  /** Which peers may name the client in X-Forwarded-For (empty: nobody), and how many hops of them. */
  trustProxy: { addresses: readonly string[]; hops: number };
}

export function accessOptionsFrom(config: ApiConfig, singleUser = false): AccessOptions {
  return {
    ...loadApiSecrets(config),
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    signup: config.ALLOW_SIGNUP === false ? 'closed' : singleUser ? 'first-account' : 'open',
    loginRateLimitPerMinute: config.LOGIN_RATE_LIMIT_PER_MINUTE,
    loginAddressRateLimitPerMinute: config.LOGIN_ADDRESS_RATE_LIMIT_PER_MINUTE,
    signupRateLimitPerMinute: config.SIGNUP_RATE_LIMIT_PER_MINUTE,
    trustProxy: { addresses: config.TRUST_PROXY, hops: config.TRUST_PROXY_HOPS },
    webhookRateLimitPerMinute: config.WEBHOOK_RATE_LIMIT_PER_MINUTE,
    allowPrivateWebhookUrls: config.ALLOW_PRIVATE_WEBHOOK_URLS,
  };
}

/** The GitHub App's settings, the private key read from its file; null when no App is configured. */
export function githubAppFrom(config: ApiConfig): GithubAppOptions | null {
  if (config.GITHUB_APP_ID === undefined) return null;
  const key = config.GITHUB_APP_PRIVATE_KEY_FILE ? readFileSync(config.GITHUB_APP_PRIVATE_KEY_FILE, 'utf8') : config.GITHUB_APP_PRIVATE_KEY!;
  return {
    appId: config.GITHUB_APP_ID,
    privateKey: key.replace(/\\n/g, '\n'),
    webhookSecret: config.GITHUB_APP_WEBHOOK_SECRET!,
    clientId: config.GITHUB_APP_CLIENT_ID!,
    clientSecret: config.GITHUB_APP_CLIENT_SECRET!,
    slug: config.GITHUB_APP_SLUG!,
    apiUrl: config.GITHUB_API_URL,
    webUrl: config.GITHUB_WEB_URL,
  };
}
