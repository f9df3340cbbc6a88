import { z } from 'zod';
import { parseBuildTaskEnv, type ParsedBuildTask } from '@platform/contracts';
import type { LogCaps } from './events.ts';
import type { UploadLimits } from './upload.ts';
import { DEFAULT_REGISTRY, defaultToolchainCache, type ToolchainSettings } from './toolchains.ts';

const envSchema = z.object({
  // Where the build clones and builds; a fresh folder per run. Default: the current directory.
  BUILD_WORK_DIR: z.string().optional(),
  // Most files one deployment may upload. Default 20000.
  BUILD_MAX_OUTPUT_FILES: z.coerce.number().int().positive().default(20_000),
  // Most bytes one deployment may upload. Default 1 GiB.
  BUILD_MAX_OUTPUT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 ** 3),
  // Parallel uploads. Default 32.
  BUILD_UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  // Most lines of command output one build logs; the rest is counted, not sent. Default 20000.
  BUILD_LOG_MAX_LINES: z.coerce.number().int().positive().default(20_000),
  // Most bytes of command output one build logs. Default 5 MiB.
  BUILD_LOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 1024 ** 2),
  // Largest dependency cache saved to the object store. Default 2 GiB.
  BUILD_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
  // The PATH the user's commands get (the build image's node, npm, pnpm, yarn, git).
  PATH: z.string().default('/usr/local/bin:/usr/bin:/bin'),
  // Locale for the user's commands, when set.
  LANG: z.string().optional(),
  // The npm registry Node.js, bun, pnpm and yarn are installed from (a mirror). Default registry.npmjs.org.
  BUILD_NPM_REGISTRY: z.string().url().optional(),
  // Where verified toolchain tarballs are kept between builds. Default: a folder of this user's in the OS temp dir.
  BUILD_TOOLCHAIN_CACHE_DIR: z.string().optional(),
  // Private IPv4 CIDRs builds may reach although private (a registry mirror), comma-separated. Default none.
  BUILD_EGRESS_ALLOW: z.string().optional(),
});

export interface BuildServerConfig {
  task: ParsedBuildTask;
  workDir: string;
  limits: UploadLimits;
  logCaps: LogCaps;
  cacheMaxBytes: number;
  /** What the user's commands may inherit. */
  baseEnv: Record<string, string>;
  /** Private CIDRs the sandbox's firewall lets through. */
  egressAllow: string[];
  toolchains: ToolchainSettings;
}

/** `env` holds BUILD_TASK (main.ts puts the content of BUILD_TASK_FILE there when that is how the task came). */
export function loadConfig(env: Record<string, string | undefined>): BuildServerConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
  }
  const parsed = result.data;
  return {
    task: parseBuildTaskEnv(env),
    workDir: parsed.BUILD_WORK_DIR ?? process.cwd(),
    limits: {
      maxFiles: parsed.BUILD_MAX_OUTPUT_FILES,
      maxTotalBytes: parsed.BUILD_MAX_OUTPUT_BYTES,
      concurrency: parsed.BUILD_UPLOAD_CONCURRENCY,
    },
    logCaps: { maxLines: parsed.BUILD_LOG_MAX_LINES, maxBytes: parsed.BUILD_LOG_MAX_BYTES },
    cacheMaxBytes: parsed.BUILD_CACHE_MAX_BYTES,
    baseEnv: { PATH: parsed.PATH, ...(parsed.LANG ? { LANG: parsed.LANG } : {}) },
    toolchains: { registry: parsed.BUILD_NPM_REGISTRY ?? DEFAULT_REGISTRY, cacheDir: parsed.BUILD_TOOLCHAIN_CACHE_DIR ?? defaultToolchainCache() },
    egressAllow: (parsed.BUILD_EGRESS_ALLOW ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
  };
}
