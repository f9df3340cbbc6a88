import { z } from 'zod';
import { parseBuildTaskEnv, type ParsedBuildTask } from '@platform/contracts';

const envSchema = z.object({
  // Where the build clones and builds; a fresh folder per run. Default: the current directory.
  BUILD_WORK_DIR: z.string().optional(),
  // Most files one deployment may upload. Default 20000.
  BUILD_MAX_OUTPUT_FILES: z.coerce.number().int().positive().default(20_000),
  // Most bytes one deployment may upload. Default 1 GiB.
  BUILD_MAX_OUTPUT_BYTES: z.coerce.number().int().positive().default(1024 ** 3),
  // Parallel uploads. Default 32.
  BUILD_UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  PATH: z.string().default('/usr/local/bin:/usr/bin:/bin'),
  LANG: z.string().optional(),
});

export interface BuildServerConfig {
  task: ParsedBuildTask;
  workDir: string;
  limits: { maxFiles: number; maxTotalBytes: number; concurrency: number };
  /** What the user's commands may inherit. */
  baseEnv: Record<string, string>;
}

export function loadConfig(env: Record<string, string | undefined>): BuildServerConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.parse(cleaned);
  return {
    task: parseBuildTaskEnv(env),
    workDir: parsed.BUILD_WORK_DIR ?? process.cwd(),
    limits: {
      maxFiles: parsed.BUILD_MAX_OUTPUT_FILES,
      maxTotalBytes: parsed.BUILD_MAX_OUTPUT_BYTES,
      concurrency: parsed.BUILD_UPLOAD_CONCURRENCY,
    },
    baseEnv: { PATH: parsed.PATH, ...(parsed.LANG ? { LANG: parsed.LANG } : {}) },
  };
}
