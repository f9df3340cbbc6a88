import { randomBytes } from 'node:crypto';
import type { BuildEvent } from '@platform/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from './client.ts';
import { createLogStore, type LogStore } from './log-store.ts';
import { migrateClickHouse } from './migrations.ts';

const freshDeployment = () => randomBytes(8).toString('hex');
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0, 0);

function log(deploymentId: string, seq: number, message: string, stream: 'stdout' | 'stderr' | 'system' = 'stdout'): BuildEvent {
  return { type: 'log', deploymentId, projectId: 'prj_contract', seq, ts: T0 + seq * 7, stream, message };
}

/**
 * The SQL of the build-log store, written once and run on every ClickHouse it supports
 * (the chDB engine in process, a ClickHouse server over HTTP). Fresh deployment ids keep a
 * shared server clean enough.
 */
export function describeLogStoreContract(driver: string, open: () => Promise<ClickHouse>): void {
  describe(`LogStore contract: ${driver}`, () => {
    let client: ClickHouse;
    let logs: LogStore;
    beforeAll(async () => {
      client = await open();
      await migrateClickHouse(client, { logRetentionDays: 30 });
      logs = createLogStore(client);
    });
    afterAll(async () => {
      await client?.close();
    });

    it('applies its migrations again without harm', async () => {
      await migrateClickHouse(client, { logRetentionDays: 30 });
      await migrateClickHouse(client, { logRetentionDays: 7 });
    });

    it('reads a deployment’s log lines in seq order with stream, time and text intact', async () => {
      const id = freshDeployment();
      await logs.insert([
        log(id, 3, 'third: ünïcödé ✓ and "quotes" \\ backslash'),
        log(id, 1, 'first', 'system'),
        log(id, 2, 'second\twith tab', 'stderr'),
        { type: 'status', deploymentId: id, projectId: 'prj_contract', seq: 4, ts: T0, status: 'READY' },
      ]);
      expect(await logs.read(id)).toEqual([
        { seq: 1, ts: T0 + 7, stream: 'system', message: 'first' },
        { seq: 2, ts: T0 + 14, stream: 'stderr', message: 'second\twith tab' },
        { seq: 3, ts: T0 + 21, stream: 'stdout', message: 'third: ünïcödé ✓ and "quotes" \\ backslash' },
      ]);
    });

    it('returns a redelivered event once', async () => {
      const id = freshDeployment();
      await logs.insert([log(id, 1, 'a'), log(id, 2, 'b')]);
      await logs.insert([log(id, 2, 'b'), log(id, 3, 'c')]); // at-least-once delivery repeats seq 2
      expect((await logs.read(id)).map((l) => l.seq)).toEqual([1, 2, 3]);
    });

    it('resumes after a seq and honours a limit', async () => {
      const id = freshDeployment();
      await logs.insert(Array.from({ length: 50 }, (_, i) => log(id, i + 1, `line ${i + 1}`)));
      expect((await logs.read(id, { afterSeq: 45 })).map((l) => l.seq)).toEqual([46, 47, 48, 49, 50]);
      expect((await logs.read(id, { afterSeq: 10, limit: 3 })).map((l) => l.seq)).toEqual([11, 12, 13]);
      expect(await logs.read(id, { afterSeq: 50 })).toEqual([]);
    });

    it('keeps deployments apart and treats ids as data', async () => {
      const a = freshDeployment();
      const b = freshDeployment();
      await logs.insert([log(a, 1, 'from a'), log(b, 1, 'from b')]);
      expect((await logs.read(a)).map((l) => l.message)).toEqual(['from a']);
      expect(await logs.read("x' OR 1=1 --")).toEqual([]);
    });

    it('stores a large batch and long lines', async () => {
      const id = freshDeployment();
      const long = 'x'.repeat(100_000);
      await logs.insert([...Array.from({ length: 5_000 }, (_, i) => log(id, i + 1, `line ${i + 1}`)), log(id, 5_001, long)]);
      const all = await logs.read(id);
      expect(all).toHaveLength(5_001);
      expect(all.at(-1)?.message).toBe(long);
    });

    it('summarises a deployment’s stored stream: its highest seq and whether it ended', async () => {
      const id = freshDeployment();
      expect(await logs.eventSummary(id)).toEqual({ maxSeq: 0, terminal: false });
      const status = (seq: number, s: 'BUILDING' | 'ERROR'): BuildEvent => ({
        type: 'status',
        deploymentId: id,
        projectId: 'prj_contract',
        seq,
        ts: T0,
        status: s,
      });
      await logs.insert([status(1, 'BUILDING'), log(id, 2, 'working'), log(id, 2, 'working')]);
      expect(await logs.eventSummary(id)).toEqual({ maxSeq: 2, terminal: false });
      await logs.insert([status(3, 'ERROR')]);
      expect(await logs.eventSummary(id)).toEqual({ maxSeq: 3, terminal: true });
      expect(await logs.eventSummary(freshDeployment())).toEqual({ maxSeq: 0, terminal: false });
    });

    it('does nothing for an empty insert', async () => {
      await logs.insert([]);
    });
  });
}
