import { describe, expect, it } from 'vitest';
import type { LogEvent, StatusEvent } from '@platform/contracts';
import { deploymentEventKey, verifyBuildEvent } from '@platform/event-bus';
import { capturingBus } from '@platform/testing/build';
import { BuildEventEmitter } from './events.ts';

const ids = { deploymentId: 'dep12345678', projectId: 'p1' };

describe('BuildEventEmitter', () => {
  it('numbers events from 1 without gaps and sends a status after every line before it', async () => {
    const bus = capturingBus();
    const events = new BuildEventEmitter(bus, ids, { batchSize: 3 });
    for (let i = 0; i < 10; i++) events.log('stdout', `line ${i}`);
    await events.status('READY');
    expect(bus.events.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(bus.events.at(-1)).toMatchObject({ type: 'status', status: 'READY' });
  });

  it('signs every event with the task key, over the masked text, so the consumer verifies it', async () => {
    const secret = 'platform-signing-secret-0123456789abcdef';
    const bus = capturingBus();
    const events = new BuildEventEmitter(bus, ids, { signingKey: deploymentEventKey(secret, ids) });
    events.maskValues(['hunter2-secret']);
    events.log('stdout', 'token hunter2-secret');
    await events.status('READY');
    expect(bus.events.map((e) => verifyBuildEvent(e, secret))).toEqual(['valid', 'valid']);
    expect((bus.events[0] as LogEvent).message).toBe('token ***');
  });

  it('masks secret values in every spelling, in lines and in status details', async () => {
    const bus = capturingBus();
    const events = new BuildEventEmitter(bus, ids);
    events.maskValues(['s3cr3t-"quoted"/value', 'abc', 'longer-s3cr3t-"quoted"/value-x']);
    events.log('stdout', 'plain s3cr3t-"quoted"/value here');
    events.log('stdout', JSON.stringify({ TOKEN: 's3cr3t-"quoted"/value' }));
    events.log('stdout', `url ?t=${encodeURIComponent('s3cr3t-"quoted"/value')}`);
    events.log('stdout', 'longer-s3cr3t-"quoted"/value-x');
    events.log('stdout', 'abc is too short to be masked');
    await events.status('ERROR', { detail: 'failed with s3cr3t-"quoted"/value' });
    const messages = bus.events.map((e) => (e.type === 'log' ? e.message : (e as StatusEvent).detail));
    expect(messages).toEqual(['plain *** here', '{"TOKEN":"***"}', 'url ?t=***', '***', 'abc is too short to be masked', 'failed with ***']);
  });

  it('masks each line of a multi-line secret, as it is logged line by line', async () => {
    const bus = capturingBus();
    const events = new BuildEventEmitter(bus, ids);
    events.maskValues(['-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nkqhkiG9w0BAQEFAASCBKcwggSjAgEAAo\n-----END KEY-----']);
    for (const line of ['-----BEGIN KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', '  kqhkiG9w0BAQEFAASCBKcwggSjAgEAAo']) events.log('stdout', line);
    await events.flush();
    expect(bus.events.map((e) => (e as LogEvent).message)).toEqual(['***', '***', '  ***']);
  });

  it('caps command output by lines and bytes with one notice; system lines always pass', async () => {
    const bus = capturingBus();
    const events = new BuildEventEmitter(bus, ids, { caps: { maxLines: 5, maxBytes: 1_000_000 } });
    for (let i = 0; i < 100; i++) events.log(i % 2 ? 'stderr' : 'stdout', `line ${i}`);
    events.system('after the cap');
    await events.flush();
    const logs = bus.events as LogEvent[];
    expect(logs.filter((l) => l.stream !== 'system').map((l) => l.message)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(logs.filter((l) => l.message.startsWith('Log limit reached'))).toHaveLength(1);
    expect(logs.at(-1)?.message).toBe('after the cap');
    expect(events.droppedLines).toBe(95);

    const bytesBus = capturingBus();
    const byBytes = new BuildEventEmitter(bytesBus, ids, { caps: { maxLines: 1_000, maxBytes: 100 } });
    for (let i = 0; i < 10; i++) byBytes.log('stdout', 'x'.repeat(30));
    await byBytes.flush();
    expect(bytesBus.events.filter((e) => e.type === 'log' && e.stream === 'stdout')).toHaveLength(3);
  });

  it('truncates an overlong line after masking, so no secret prefix survives the cut', async () => {
    const bus = capturingBus();
    const events = new BuildEventEmitter(bus, ids);
    const secret = 'S'.repeat(40);
    events.maskValues([secret]);
    events.log('stdout', 'x'.repeat(16_370) + secret + 'x'.repeat(4_000));
    await events.flush();
    const message = (bus.events[0] as LogEvent).message;
    expect(message).not.toContain('SSSS');
    expect(message.endsWith('… [line truncated]')).toBe(true);
  });

  it('retries a failing bus in order: nothing is dropped', async () => {
    const bus = capturingBus();
    let failures = 2;
    const flaky = {
      ...bus,
      publish: async (topic: string, m: Parameters<typeof bus.publish>[1]) => (failures-- > 0 ? Promise.reject(new Error('down')) : bus.publish(topic, m)),
    };
    const events = new BuildEventEmitter(flaky, ids, { batchSize: 1 });
    events.log('stdout', 'a');
    events.log('stdout', 'b');
    await events.status('READY');
    expect(bus.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
