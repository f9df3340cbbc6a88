import type { Logger } from 'pino';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * Runs named shutdown steps in order on SIGINT/SIGTERM (stop taking work, drain, flush,
 * close clients), each bounded by the overall deadline, then sets the exit code. A second
 * signal forces the exit.
 */
export function onShutdown(logger: Logger, steps: ShutdownStep[], options: { deadlineMs?: number } = {}): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed: exiting');
      process.exit(1);
    }, options.deadlineMs ?? 15_000);
    deadline.unref();
    let failed = false;
    for (const step of steps) {
      try {
        await step.run();
      } catch (err) {
        failed = true;
        logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    clearTimeout(deadline);
    logger.info('stopped');
    process.exitCode = failed ? 1 : 0;
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
