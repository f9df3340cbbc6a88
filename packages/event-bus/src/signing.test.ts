import { describe, expect, it } from 'vitest';
import { buildEventSchema, type BuildEvent } from '@platform/contracts';
import { deploymentEventKey, platformEventSigner, signBuildEvent, verifyBuildEvent } from './signing.ts';

const SECRET = 'platform-signing-secret-0123456789abcdef';
const A = { deploymentId: 'dplaaaaaaaa', projectId: 'prj1' };
const B = { deploymentId: 'dplbbbbbbbb', projectId: 'prj2' };
const ready = (ids: typeof A, seq = 3): BuildEvent => ({ type: 'status', ...ids, seq, ts: 1_700_000_000_000, status: 'READY' });

/** As the consumer sees it: JSON on the wire, parsed by the contract's schema. */
const overTheWire = (e: BuildEvent): BuildEvent => buildEventSchema.parse(JSON.parse(JSON.stringify(e)));

describe('build event signatures', () => {
  it('accepts an event signed with its own deployment key, after a round trip through JSON', () => {
    const signed = signBuildEvent(ready(A), deploymentEventKey(SECRET, A));
    expect(verifyBuildEvent(overTheWire(signed), SECRET)).toBe('valid');
  });

  it('keeps the signature valid across a re-encoding with other key order and undefined fields', () => {
    const event = { detail: undefined, ...ready(A) } as BuildEvent;
    const signed = signBuildEvent(event, deploymentEventKey(SECRET, A));
    const reordered = Object.fromEntries(Object.entries(signed).reverse()) as BuildEvent;
    expect(verifyBuildEvent(overTheWire(reordered), SECRET)).toBe('valid');
  });

  it('refuses an unsigned event', () => {
    expect(verifyBuildEvent(ready(A), SECRET)).toBe('unsigned');
  });

  it("refuses an event for deployment B signed with A's key (a hostile build moving another deployment)", () => {
    const forged = signBuildEvent(ready(B), deploymentEventKey(SECRET, A));
    expect(verifyBuildEvent(overTheWire(forged), SECRET)).toBe('bad_signature');
  });

  it("refuses A's signed event re-addressed to another project or deployment", () => {
    const signed = signBuildEvent(ready(A), deploymentEventKey(SECRET, A));
    expect(verifyBuildEvent({ ...signed, projectId: 'prj2' }, SECRET)).toBe('bad_signature');
    expect(verifyBuildEvent({ ...signed, deploymentId: B.deploymentId }, SECRET)).toBe('bad_signature');
  });

  it('refuses a tampered event (status, seq, message)', () => {
    const key = deploymentEventKey(SECRET, A);
    const signed = signBuildEvent(ready(A), key);
    expect(verifyBuildEvent({ ...signed, status: 'ERROR' } as BuildEvent, SECRET)).toBe('bad_signature');
    expect(verifyBuildEvent({ ...signed, seq: 99 }, SECRET)).toBe('bad_signature');
    const line = signBuildEvent({ type: 'log', ...A, seq: 1, ts: 1, stream: 'stdout', message: 'hello' }, key);
    expect(verifyBuildEvent({ ...line, message: 'hellO' }, SECRET)).toBe('bad_signature');
  });

  it('refuses an event signed under another platform secret', () => {
    const signed = signBuildEvent(ready(A), deploymentEventKey('another-platform-secret-0123456789abcdef', A));
    expect(verifyBuildEvent(signed, SECRET)).toBe('bad_signature');
  });

  it('derives a different key per deployment and per project, and never the secret itself', () => {
    const keys = new Set([deploymentEventKey(SECRET, A), deploymentEventKey(SECRET, B), deploymentEventKey(SECRET, { ...A, projectId: 'prj2' })]);
    expect(keys.size).toBe(3);
    expect([...keys].some((k) => k.includes(Buffer.from(SECRET).toString('hex')))).toBe(false);
  });

  it("signs the platform's own events when a secret is set, and leaves them alone when not", () => {
    expect(verifyBuildEvent(platformEventSigner(SECRET)(ready(A)), SECRET)).toBe('valid');
    expect(platformEventSigner(undefined)(ready(A)).sig).toBeUndefined();
  });
});
