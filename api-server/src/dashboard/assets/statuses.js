// Deployment statuses as the pages need them at run time. The statuses themselves are the
// contract's (`DeploymentStatus`): `PHASE` must name every one of them and nothing else, so
// a status added to the contract fails the dashboard's typecheck until it is placed here;
// statuses.test.ts checks that the terminal ones are the server's `TERMINAL_STATUSES`.

/** @typedef {import('./server-types').DeploymentStatus} DeploymentStatus */

/** @type {{ readonly [S in DeploymentStatus]: 'running' | 'terminal' }} */
const PHASE = { QUEUED: 'running', BUILDING: 'running', READY: 'terminal', ERROR: 'terminal', CANCELED: 'terminal' };

const all = /** @type {DeploymentStatus[]} */ (Object.keys(PHASE));

/** Queued or building: the list refreshes fast and Cancel is offered. */
export const RUNNING = all.filter((s) => PHASE[s] === 'running');
/** The stream ends with these; a deployment never leaves them. */
export const TERMINAL = all.filter((s) => PHASE[s] === 'terminal');

/** @param {DeploymentStatus} status */
export const isRunning = (status) => PHASE[status] === 'running';
/** @param {DeploymentStatus} status */
export const isTerminal = (status) => PHASE[status] === 'terminal';

/**
 * Statuses only move forward (QUEUED, BUILDING, then an end); a REST reply that left before a
 * socket event must not undo it.
 * @param {DeploymentStatus} status
 */
export const rank = (status) => (status === 'QUEUED' ? 0 : status === 'BUILDING' ? 1 : 2);
