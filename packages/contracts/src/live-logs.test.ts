import { describe, expect, it } from 'vitest';
import { liveStatusMessageSchema, subscribeAckSchema, subscribeRequestSchema } from './live-logs.ts';
import { writerAppliedSchema } from './writer-applied.ts';

describe('the live-logs socket protocol', () => {
  it('reads a subscribe request as the dashboard sends it, afterSeq defaulting to 0', () => {
    expect(subscribeRequestSchema.parse({ deploymentId: 'dpl_abc-1' })).toEqual({ deploymentId: 'dpl_abc-1', afterSeq: 0 });
    expect(subscribeRequestSchema.parse({ deploymentId: 'd', afterSeq: 41 })).toEqual({ deploymentId: 'd', afterSeq: 41 });
  });

  it('refuses a deploymentId that is not an id, and a negative or fractional afterSeq', () => {
    for (const bad of [
      { deploymentId: '' },
      { deploymentId: '../x' },
      { deploymentId: 'a'.repeat(65) },
      { deploymentId: 'd', afterSeq: -1 },
      { deploymentId: 'd', afterSeq: 1.5 },
      null,
    ]) {
      expect(subscribeRequestSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('acks with the current status or a reason', () => {
    expect(subscribeAckSchema.parse({ ok: true, status: 'BUILDING' })).toEqual({ ok: true, status: 'BUILDING' });
    expect(subscribeAckSchema.parse({ ok: false, error: 'deployment not found' })).toEqual({ ok: false, error: 'deployment not found' });
    expect(subscribeAckSchema.safeParse({ ok: true }).success).toBe(false);
  });

  it('lets a status the platform set carry seq 0 (a build that ended before its first event)', () => {
    expect(liveStatusMessageSchema.parse({ deploymentId: 'd', seq: 0, status: 'ERROR', detail: 'timed out' }).seq).toBe(0);
  });

  it('announces an applied seq, which is positive', () => {
    expect(writerAppliedSchema.safeParse({ deploymentId: 'd', upToSeq: 3 }).success).toBe(true);
    expect(writerAppliedSchema.safeParse({ deploymentId: 'd', upToSeq: 0 }).success).toBe(false);
  });
});
