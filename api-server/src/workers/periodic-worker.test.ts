import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@platform/logger';
import { PeriodicWorker } from './periodic-worker.ts';

const logger = createLogger({ level: 'silent' });

/** A pass that stays open until the test lets it finish. */
function gatedPass() {
  const calls: (() => void)[] = [];
  const pass = vi.fn(() => new Promise<void>((resolve) => calls.push(resolve)));
  const finish = async () => {
    calls.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
  };
  return { pass, finish };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PeriodicWorker timing', () => {
  it('runs a pass at start and then once per interval', async () => {
    const pass = vi.fn(async () => {});
    const worker = new PeriodicWorker({ intervalMs: 1_000, pass, logger, failureMessage: 'failed' });
    worker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(pass).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(pass).toHaveBeenCalledTimes(4);
    await worker.stop();
  });

  it('waits for the first tick when asked not to run at once', async () => {
    const pass = vi.fn(async () => {});
    const worker = new PeriodicWorker({ intervalMs: 1_000, pass, logger, failureMessage: 'failed' });
    worker.start({ runNow: false });
    await vi.advanceTimersByTimeAsync(999);
    expect(pass).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(pass).toHaveBeenCalledTimes(1);
    await worker.stop();
  });
});

describe('PeriodicWorker passes', () => {
  it('never overlaps passes: kicks during a pass make exactly one more', async () => {
    const { pass, finish } = gatedPass();
    const worker = new PeriodicWorker({ intervalMs: 60_000, pass, logger, failureMessage: 'failed' });
    worker.kick();
    await vi.advanceTimersByTimeAsync(0);
    worker.kick();
    worker.kick();
    worker.kick();
    expect(pass).toHaveBeenCalledTimes(1);
    await finish();
    expect(pass).toHaveBeenCalledTimes(2);
    await finish();
    expect(pass).toHaveBeenCalledTimes(2);
  });

  it('runPass resolves after the pass it joined and the one it asked for', async () => {
    const { pass, finish } = gatedPass();
    const worker = new PeriodicWorker({ intervalMs: 60_000, pass, logger, failureMessage: 'failed' });
    let firstDone = false;
    let secondDone = false;
    void worker.runPass().then(() => (firstDone = true));
    await vi.advanceTimersByTimeAsync(0);
    void worker.runPass().then(() => (secondDone = true));
    await finish();
    expect([firstDone, secondDone]).toEqual([false, false]);
    await finish();
    expect([firstDone, secondDone]).toEqual([true, true]);
  });

  it('keeps running after a pass throws, and logs it', async () => {
    const error = vi.fn();
    const failing = { ...logger, error } as unknown as typeof logger;
    const pass = vi.fn(async () => {
      throw new Error('db down');
    });
    const worker = new PeriodicWorker({ intervalMs: 1_000, pass, logger: failing, failureMessage: 'pass failed' });
    worker.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(pass).toHaveBeenCalledTimes(2);
    expect(error).toHaveBeenCalledWith({ err: expect.any(Error) }, 'pass failed');
    await worker.stop();
  });
});

describe('PeriodicWorker kicks and stop', () => {
  it('kickIn runs a pass after the delay, not before', async () => {
    const pass = vi.fn(async () => {});
    const worker = new PeriodicWorker({ intervalMs: 60_000, pass, logger, failureMessage: 'failed' });
    worker.kickIn(200);
    await vi.advanceTimersByTimeAsync(199);
    expect(pass).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(pass).toHaveBeenCalledTimes(1);
  });

  it('stop waits for the running pass, and nothing starts afterwards', async () => {
    const { pass, finish } = gatedPass();
    const worker = new PeriodicWorker({ intervalMs: 1_000, pass, logger, failureMessage: 'failed' });
    worker.start();
    await vi.advanceTimersByTimeAsync(0);
    worker.kick();
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    expect(worker.stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    await finish();
    await stopping;
    expect(stopped).toBe(true);
    // The kick made during the pass is dropped, and so are timers and later kicks.
    worker.kick();
    worker.kickIn(10);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(pass).toHaveBeenCalledTimes(1);
  });
});
