/** Storage reads are bounded in time: a slow bucket answers 504 instead of holding a request (and its socket) open. */

export class StorageTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`reading ${what} from storage took longer than ${ms} ms`);
    this.name = 'StorageTimeoutError';
  }
}

/** Rejects when a storage read takes longer than `ms`; the read itself is left to finish. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0)) return promise;
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StorageTimeoutError(what, ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
