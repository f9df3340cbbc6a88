import { pino, type Logger } from 'pino';

export type { Logger };
export { onShutdown, type ShutdownStep } from './shutdown.ts';

/** JSON logs; one child logger per component (`logger.child({ component: 'scheduler' })`). */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    ...(options.name ? { name: options.name } : {}),
    level: options.level ?? 'info',
    // Secrets must never reach a log line; these paths cover the obvious carriers.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secret', '*.token'],
  });
}
