import { describe, expect, it } from 'vitest';
import { deploymentStatusSchema, TERMINAL_STATUSES } from '@platform/contracts';
import { isRunning, isTerminal, rank, RUNNING, TERMINAL } from './assets/statuses.js';

// The type checker proves the dashboard names every status of the contract; this proves it
// sorts them as the server does (the server's list is a value, not a type).
describe('the dashboard statuses', () => {
  it('end where the server says a deployment ends', () => {
    expect([...TERMINAL].sort()).toEqual([...TERMINAL_STATUSES].sort());
    expect([...RUNNING, ...TERMINAL].sort()).toEqual([...deploymentStatusSchema.options].sort());
    for (const s of deploymentStatusSchema.options) expect(isTerminal(s)).toBe(!isRunning(s));
  });

  it('only move forward', () => {
    expect(rank('QUEUED')).toBeLessThan(rank('BUILDING'));
    for (const s of TERMINAL) expect(rank('BUILDING')).toBeLessThan(rank(s));
  });
});
